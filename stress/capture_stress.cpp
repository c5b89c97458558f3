// stress/capture_stress.cpp: what a thread closure captures, checked on both sides.
//
// Scenarios:
//   move_closure     a vector / unique_ptr / string moved into a thread's closure (Rust's
//                    `move ||`): the source vector and unique_ptr are empty right after the
//                    move, the thread sees every byte intact, its result is seen after join.
//   move_channel     the same payloads moved through a channel: the Sender's copy is empty
//                    after send, the receiving thread sees them intact.
//   shared_last      a shared_ptr handed to K threads while the creator drops its own copy
//                    first: the last owner is another thread, the destructor runs exactly
//                    once, there, and sees the object intact; a weak_ptr racing lock()
//                    against the last release never revives it.
//   scoped_borrow    threads borrow locals by reference (Rust's thread::scope): disjoint
//                    mutable chunks plus a shared read-only table, joined before the scope
//                    ends (jthread destructors); the results must be exact.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "threadbench/channel.hpp"

namespace {

using tbstress::Rng;
using tbstress::Suite;

tbstress::Counter checked_counter("payloads_checked");

std::uint64_t pattern(std::uint64_t seed, std::size_t i) {
  return (seed + i) * 0x9E3779B97F4A7C15ULL ^ (i << 7);
}

std::vector<std::uint64_t> make_vector(std::uint64_t seed, std::size_t n) {
  std::vector<std::uint64_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = pattern(seed, i);
  return v;
}

bool vector_intact(const std::vector<std::uint64_t>& v, std::uint64_t seed, std::size_t n) {
  if (v.size() != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (v[i] != pattern(seed, i)) return false;
  }
  return true;
}

struct Blob {
  std::uint64_t seed;
  std::uint64_t words[32];
  explicit Blob(std::uint64_t s) : seed(s) {
    for (std::size_t i = 0; i < 32; ++i) words[i] = pattern(s, i);
  }
  bool intact() const {
    for (std::size_t i = 0; i < 32; ++i) {
      if (words[i] != pattern(seed, i)) return false;
    }
    return true;
  }
};

std::string make_string(std::uint64_t seed, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (pattern(seed, i) % 26));
  return s;
}

void move_closure(Suite& suite, std::uint64_t rounds, std::size_t size) {
  auto sc = suite.scenario("move_closure");
  if (!sc) return;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    auto vec = make_vector(r, size);
    auto blob = std::make_unique<Blob>(r);
    auto str = make_string(r, size);
    const std::string expected_str = str;
    bool ok_vec = false, ok_blob = false, ok_str = false;
    // Like Rust's `thread::spawn(move || ...)`: the closure owns what it captured.
    std::thread t([v = std::move(vec), b = std::move(blob), s = std::move(str), r, size,
                   &expected_str, &ok_vec, &ok_blob, &ok_str] {
      ok_vec = vector_intact(v, r, size);
      ok_blob = b && b->seed == r && b->intact();
      ok_str = s == expected_str;
    });
    // The move happened when the closure was built, before the thread started.
    TB_CHECK(vec.empty(), "move_closure: source vector not empty after the move");
    TB_CHECK(blob == nullptr, "move_closure: source unique_ptr not null after the move");
    // (A moved-from std::string is only "valid but unspecified": not checked.)
    // Arguments to std::thread are decay-copied (moved) into the new thread too.
    auto vec2 = make_vector(r + 1, size);
    bool ok_arg = false;
    std::thread t2(
        [&ok_arg, r, size](std::vector<std::uint64_t> v) { ok_arg = vector_intact(v, r + 1, size); },
        std::move(vec2));
    TB_CHECK(vec2.empty(), "move_closure: vector passed as a thread argument not moved");
    t.join();
    t2.join();
    TB_CHECK(ok_vec && ok_blob && ok_str && ok_arg,
             "move_closure round %llu: destination not intact (vec %d blob %d str %d arg %d)",
             static_cast<unsigned long long>(r), ok_vec, ok_blob, ok_str, ok_arg);
    checked_counter.add(4);
  }
  sc.done(rounds * 4);
}

void move_channel(Suite& suite, std::uint64_t messages, std::size_t size) {
  auto sc = suite.scenario("move_channel");
  if (!sc) return;
  struct Parcel {
    std::uint64_t seed;
    std::vector<std::uint64_t> vec;
    std::unique_ptr<Blob> blob;
  };
  std::uint64_t good = 0;
  for (std::size_t cap : {std::size_t{0}, std::size_t{2}}) {
    auto [tx, rx] = threadbench::sync_channel<Parcel>(cap);
    std::thread consumer([&, &rx = rx] {
      for (auto& p : rx) {
        const bool ok = vector_intact(p.vec, p.seed, size) && p.blob && p.blob->seed == p.seed &&
                        p.blob->intact();
        TB_CHECK(ok, "move_channel: parcel %llu arrived damaged", static_cast<unsigned long long>(p.seed));
        good += ok;
        checked_counter.add();
      }
    });
    for (std::uint64_t i = 0; i < messages; ++i) {
      Parcel p{i, make_vector(i, size), std::make_unique<Blob>(i)};
      auto r = tx.send(std::move(p));
      TB_CHECK(r.ok(), "move_channel: send failed");
      TB_CHECK(p.vec.empty() && p.blob == nullptr, "move_channel: sent parcel not emptied");
    }
    { auto drop = std::move(tx); }
    consumer.join();
  }
  TB_CHECK(good == 2 * messages, "move_channel: %llu of %llu parcels arrived intact",
           static_cast<unsigned long long>(good), static_cast<unsigned long long>(2 * messages));
  sc.done(2 * messages);
}

// The object several threads share; its destructor checks and records who ran it.
struct SharedThing {
  explicit SharedThing(std::uint64_t s, std::atomic<unsigned>* d, std::atomic<std::thread::id>* who)
      : blob(s), destroyed(d), destroyer(who) {}
  ~SharedThing() {
    TB_CHECK(blob.intact(), "shared_last: object damaged when destroyed");
    destroyer->store(std::this_thread::get_id(), std::memory_order_relaxed);
    destroyed->fetch_add(1, std::memory_order_relaxed);
  }
  Blob blob;
  std::atomic<unsigned>* destroyed;
  std::atomic<std::thread::id>* destroyer;
};

void shared_last(Suite& suite, std::uint64_t rounds, unsigned k) {
  auto sc = suite.scenario("shared_last");
  if (!sc) return;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    std::atomic<unsigned> destroyed{0};
    std::atomic<std::thread::id> destroyer{};
    auto sp = std::make_shared<SharedThing>(r, &destroyed, &destroyer);
    std::weak_ptr<SharedThing> weak = sp;
    std::atomic<bool> go{false};
    std::vector<std::thread> ts;
    for (unsigned i = 0; i < k; ++i) {
      ts.emplace_back([mine = sp, &go, r]() mutable {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        TB_CHECK(mine->blob.seed == r && mine->blob.intact(), "shared_last: shared object damaged");
        mine.reset();  // one of these is the last owner
      });
    }
    // A thread that keeps upgrading the weak_ptr while the owners go away: lock() either
    // gives a live, intact object or nothing, and once nothing, nothing forever.
    std::thread watcher([&weak, &go] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      bool expired = false;
      for (int i = 0; i < 20000; ++i) {
        auto p = weak.lock();
        if (!p) {
          expired = true;
          continue;
        }
        TB_CHECK(!expired, "shared_last: weak_ptr::lock revived an expired object");
        TB_CHECK(p->blob.intact(), "shared_last: weak_ptr::lock gave a damaged object");
        p.reset();
        if (weak.expired()) break;
      }
    });
    sp.reset();  // the creator lets go first: the last owner is one of the threads
    go.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    watcher.join();
    TB_CHECK(destroyed.load() == 1, "shared_last: destructor ran %u times", destroyed.load());
    TB_CHECK(destroyer.load() != std::this_thread::get_id(),
             "shared_last: the creator ran the destructor but had dropped its copy first");
    TB_CHECK(weak.expired(), "shared_last: weak_ptr not expired after every owner left");
  }
  sc.done(rounds * (k + 1), ", last owner always another thread");
}

void scoped_borrow(Suite& suite, std::uint64_t rounds, unsigned k, std::size_t chunk) {
  auto sc = suite.scenario("scoped_borrow");
  if (!sc) return;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    const auto table = make_vector(r, 64);  // borrowed read-only by every thread
    std::vector<std::uint64_t> out(k * chunk, 0);
    std::uint64_t sums[16] = {};
    {
      // Rust: thread::scope(|s| { for c in out.chunks_mut(n) { s.spawn(|| ...); } });
      // jthread joins in its destructor, so no borrow outlives this block.
      std::vector<std::jthread> scope;
      for (unsigned i = 0; i < k; ++i) {
        scope.emplace_back([&table, &out, &sums, i, chunk] {
          std::uint64_t* mine = out.data() + i * chunk;
          std::uint64_t s = 0;
          for (std::size_t j = 0; j < chunk; ++j) {
            mine[j] = table[(i + j) % table.size()] + j;
            s += mine[j];
          }
          sums[i] = s;
        });
      }
    }  // every borrow ends here
    std::uint64_t total = 0, expect = 0;
    for (unsigned i = 0; i < k; ++i) {
      std::uint64_t s = 0;
      for (std::size_t j = 0; j < chunk; ++j) {
        const std::uint64_t want = table[(i + j) % table.size()] + j;
        TB_CHECK(out[i * chunk + j] == want, "scoped_borrow: thread %u item %zu wrong", i, j);
        s += want;
      }
      expect += s;
      total += sums[i];
    }
    TB_CHECK(total == expect, "scoped_borrow: per-thread sums wrong");
    checked_counter.add(k);
  }
  sc.done(rounds * k);
}

constexpr tbstress::Harness harness{
    .program = "capture_stress",
    .about =
        "What thread closures capture: moved payloads (source empty, destination intact),\n"
        "a shared_ptr whose last owner is another thread, scoped borrows joined in time.\n"
        "Scenario names: move_closure move_channel shared_last scoped_borrow.",
    .unit = "captures checked"};

void run_all(Suite& suite) {
  // CI-mode sizes, times --scale.
  move_closure(suite, suite.n(600), 512);
  move_channel(suite, suite.n(4000), 64);
  shared_last(suite, suite.n(400), 4);
  scoped_borrow(suite, suite.n(400), 6, 256);
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
