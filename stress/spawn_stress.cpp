// stress/spawn_stress.cpp: storms of short-lived threads, with shared results checked.
//
// Scenarios:
//   spawn_join      rounds of K std::threads, each writing its own slot (plain memory) and
//                   bumping a shared relaxed counter; after join() every slot must hold
//                   its thread's value (join is the happens-before) and the counter K.
//   batch           spawn N threads at once into a vector, then join them all.
//   nested          threads that spawn threads (a binary tree); every node reports once.
//   jthread_stop    std::jthreads looping until their stop_token fires, some stopped
//                   before they even start, some parked in condition_variable_any::wait
//                   with the token; every stop_callback runs exactly once and every
//                   thread's last write is seen after the jthread destructor joins it.
//   detach_latch    detached threads count down a std::latch; after the wait every
//                   result written before count_down is visible. The round state is shared
//                   (shared_ptr), so a detached thread still returning from count_down
//                   never touches freed memory; the harness waits for every detached
//                   thread to be gone before it exits.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

using tbstress::Rng;
using tbstress::Run;
using tbstress::Suite;

tbstress::Counter spawned_counter("threads_spawned");
tbstress::Counter joined_counter("threads_done");

// What thread i of round r writes: a value nobody else could produce.
std::uint64_t value_of(std::uint64_t round, std::uint64_t i) {
  return (round << 20) ^ (i * 0x9E3779B97F4A7C15ULL) ^ 0x5A5A;
}

void spawn_join(Suite& suite, std::uint64_t rounds, unsigned k) {
  auto sc = suite.scenario("spawn_join");
  if (!sc) return;
  std::vector<std::uint64_t> slot(k);
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    std::atomic<unsigned> counter{0};
    std::vector<std::thread> ts;
    ts.reserve(k);
    for (unsigned i = 0; i < k; ++i) {
      ts.emplace_back([&, i] {
        slot[i] = value_of(r, i);
        counter.fetch_add(1, std::memory_order_relaxed);
        joined_counter.add();
      });
      spawned_counter.add();
    }
    for (auto& t : ts) t.join();
    TB_CHECK(counter.load(std::memory_order_relaxed) == k, "spawn_join: counter %u != %u",
             counter.load(std::memory_order_relaxed), k);
    for (unsigned i = 0; i < k; ++i) {
      TB_CHECK(slot[i] == value_of(r, i), "spawn_join: round %llu slot %u not seen after join",
               static_cast<unsigned long long>(r), i);
    }
  }
  sc.done(rounds * k);
}

void batch(Suite& suite, std::uint64_t rounds, unsigned n) {
  auto sc = suite.scenario("batch");
  if (!sc) return;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    std::vector<std::uint64_t> out(n, 0);
    std::atomic<std::uint64_t> sum{0};
    {
      std::vector<std::thread> ts;
      for (unsigned i = 0; i < n; ++i) {
        ts.emplace_back([&, i] {
          out[i] = value_of(r, i);
          sum.fetch_add(i, std::memory_order_relaxed);
        });
        spawned_counter.add();
      }
      for (auto& t : ts) t.join();
    }
    TB_CHECK(sum.load() == std::uint64_t{n} * (n - 1) / 2, "batch: sum of ids wrong");
    for (unsigned i = 0; i < n; ++i) TB_CHECK(out[i] == value_of(r, i), "batch: slot %u lost", i);
  }
  sc.done(rounds * n);
}

// Each node writes its id, then spawns and joins two children until depth 0.
void tree_node(std::vector<std::uint64_t>& seen, std::uint64_t id, unsigned depth) {
  seen[id] += 1;  // each id is written by exactly one thread
  if (depth == 0) return;
  std::thread left([&seen, id, depth] { tree_node(seen, 2 * id + 1, depth - 1); });
  std::thread right([&seen, id, depth] { tree_node(seen, 2 * id + 2, depth - 1); });
  spawned_counter.add(2);
  left.join();
  right.join();
}

void nested(Suite& suite, std::uint64_t rounds, unsigned depth) {
  auto sc = suite.scenario("nested");
  if (!sc) return;
  const std::uint64_t nodes = (std::uint64_t{1} << (depth + 1)) - 1;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    std::vector<std::uint64_t> seen(nodes, 0);
    std::thread root([&seen, depth] { tree_node(seen, 0, depth); });
    root.join();
    for (std::uint64_t i = 0; i < nodes; ++i) {
      TB_CHECK(seen[i] == 1, "nested: node %llu ran %llu times", static_cast<unsigned long long>(i),
               static_cast<unsigned long long>(seen[i]));
    }
  }
  sc.done(rounds * nodes);
}

void jthread_stop(Suite& suite, std::uint64_t rounds, unsigned k) {
  auto sc = suite.scenario("jthread_stop");
  if (!sc) return;
  Rng rng(suite.opts().seed);
  std::uint64_t early = 0, parked = 0;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    std::vector<std::uint64_t> last(k, 0);
    std::vector<std::atomic<unsigned>> callbacks(k);
    std::mutex mu;
    std::condition_variable_any cv;
    {
      std::vector<std::jthread> ts;
      std::vector<std::unique_ptr<std::stop_callback<std::function<void()>>>> cbs;
      for (unsigned i = 0; i < k; ++i) {
        const bool wait_on_cv = (i % 3) == 2;
        ts.emplace_back([&, i, wait_on_cv](std::stop_token st) {
          if (wait_on_cv) {
            std::unique_lock lock(mu);
            // Returns only once stop is requested (the predicate never becomes true).
            cv.wait(lock, st, [] { return false; });
          } else {
            while (!st.stop_requested()) std::this_thread::yield();
          }
          last[i] = value_of(r, i);  // written last: must be seen after the join
          joined_counter.add();
        });
        spawned_counter.add();
        if (wait_on_cv) ++parked;
        // A callback registered on the thread's stop_source: runs exactly once, in the
        // thread that requests the stop (or right here if that already happened).
        cbs.push_back(std::make_unique<std::stop_callback<std::function<void()>>>(
            ts.back().get_stop_token(),
            std::function<void()>([&callbacks, i] { callbacks[i].fetch_add(1, std::memory_order_relaxed); })));
        if (rng.one_in(4)) {  // stopped before it may even have started
          ts.back().request_stop();
          ++early;
        }
      }
      if (rng.one_in(2)) std::this_thread::sleep_for(std::chrono::microseconds(rng.below(500)));
      // Destroying the jthreads requests stop (if not yet) and joins, last first.
      while (!ts.empty()) ts.pop_back();
      for (unsigned i = 0; i < k; ++i) {
        const unsigned n = callbacks[i].load(std::memory_order_relaxed);
        TB_CHECK(n == 1, "jthread_stop: thread %u's stop callback ran %u times", i, n);
      }
    }
    for (unsigned i = 0; i < k; ++i) {
      TB_CHECK(last[i] == value_of(r, i), "jthread_stop: thread %u's last write not seen", i);
    }
  }
  sc.done(rounds * k, " (%llu stopped before running, %llu parked in cv.wait)",
          static_cast<unsigned long long>(early), static_cast<unsigned long long>(parked));
}

// Detached threads still alive; the last thing each one does is decrement it.
std::atomic<std::uint64_t> detached_alive{0};

struct LatchRound {
  explicit LatchRound(unsigned k) : done(k), out(k, 0) {}
  std::latch done;
  std::vector<std::uint64_t> out;
};

void detach_latch(Suite& suite, std::uint64_t rounds, unsigned k) {
  auto sc = suite.scenario("detach_latch");
  if (!sc) return;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    sc.round(r);
    auto round = std::make_shared<LatchRound>(k);
    for (unsigned i = 0; i < k; ++i) {
      detached_alive.fetch_add(1, std::memory_order_relaxed);
      std::thread([round, r, i]() mutable {
        round->out[i] = value_of(r, i);
        round->done.count_down();  // after this the waiter may go on; we hold `round`
        round.reset();
        detached_alive.fetch_sub(1, std::memory_order_release);
      }).detach();
      spawned_counter.add();
    }
    round->done.wait();
    for (unsigned i = 0; i < k; ++i) {
      TB_CHECK(round->out[i] == value_of(r, i), "detach_latch: result %u not seen after the latch", i);
    }
  }
  // Do not exit under threads that are still unwinding.
  Run::get().phase("detach_latch: waiting for detached threads to end");
  while (detached_alive.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  sc.done(rounds * k);
}

constexpr tbstress::Harness harness{
    .program = "spawn_stress",
    .about =
        "Storms of short-lived threads: spawn/join, batch, nested spawns, jthread with stop\n"
        "tokens, detach + latch; shared results checked after each join/wait.\n"
        "Scenario names: spawn_join batch nested jthread_stop detach_latch.",
    .unit = "threads checked"};

void run_all(Suite& suite) {
  // CI-mode sizes, times --scale.
  spawn_join(suite, suite.n(120), 8);
  batch(suite, suite.n(16), 48);
  nested(suite, suite.n(16), 5);
  jthread_stop(suite, suite.n(80), 6);
  detach_latch(suite, suite.n(80), 8);
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
