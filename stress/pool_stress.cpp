// stress/pool_stress.cpp: oneTBB's task pool mixed with channel hand-offs.
//
// Under TSan this only tells the truth with a TSan-built oneTBB (the tsan preset; see
// scripts/build_tsan_tbb.sh): Debian's uninstrumented libtbb hides its synchronisation
// from TSan, which then reports false races between tasks.
//
// Scenarios (every result is checked against a closed form or a coverage map):
//   task_group_send/<flavour>   tasks (and the tasks they spawn) send results into a
//                               channel (unbounded, cap4, rendezvous) drained by a thread.
//   parallel_for_send/p<N>      tbb::parallel_for chunks send (range, partial sum) through
//                               a bounded channel, under global_control parallelism N; the
//                               ranges must tile [0, n) exactly and the sums add up.
//   channel_workers             std::thread workers share one Receiver of jobs; each job
//                               fans out into TBB tasks (task_group or parallel_for) and
//                               sends one result back; every job answered once, correctly.
//   task_tree                   tasks spawning tasks (a binary tree in one task_group);
//                               every leaf sends once.
//   tbb_queue                   tbb::concurrent_bounded_queue hand-off, P x C: exactly once
//                               (also shows the TSan-built TBB gives no false reports).
#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/concurrent_queue.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_group.h>

#include "harness.hpp"
#include "threadbench/channel.hpp"

namespace {

using tbstress::Suite;

tbstress::Counter sent_counter("sent");
tbstress::Counter received_counter("received");

std::uint64_t f(std::uint64_t i) { return (i * i + 7 * i + 3) % 1000003; }

struct Item {
  std::uint64_t id;
  std::uint64_t value;
};

template <class T>
std::pair<threadbench::Sender<T>, threadbench::Receiver<T>> open(std::optional<std::size_t> cap) {
  return cap ? threadbench::sync_channel<T>(*cap) : threadbench::channel<T>();
}

// Every id in [0, n) exactly once with value f(id).
void check_items(const char* sc, const std::vector<Item>& got, std::uint64_t n) {
  std::vector<std::uint8_t> seen(n, 0);
  for (const Item& it : got) {
    if (!TB_CHECK(it.id < n, "%s: unknown id %llu", sc, static_cast<unsigned long long>(it.id))) continue;
    TB_CHECK(seen[it.id]++ == 0, "%s: id %llu twice", sc, static_cast<unsigned long long>(it.id));
    TB_CHECK(it.value == f(it.id), "%s: id %llu has a wrong value", sc, static_cast<unsigned long long>(it.id));
  }
  TB_CHECK(got.size() == n, "%s: %zu results for %llu tasks", sc, got.size(), static_cast<unsigned long long>(n));
}

void task_group_send(Suite& suite, const char* flavour, std::optional<std::size_t> cap, std::uint64_t n) {
  const std::string name = std::string("task_group_send/") + flavour;
  auto sc = suite.scenario(name);
  if (!sc) return;
  std::vector<Item> got;
  {
    auto [tx, rx] = open<Item>(cap);
    std::thread consumer([&, &rx = rx] {
      for (auto& it : rx) {
        got.push_back(it);
        received_counter.add();
      }
    });
    tbb::task_group g;
    // Each top-level task sends its own result and spawns two tasks that send theirs.
    for (std::uint64_t i = 0; i < n; ++i) {
      // TBB calls task bodies as const: each task sends through its own clone.
      g.run([&g, sc = sc.name(), i, tx = tx] {
        auto mine = tx;
        TB_CHECK(mine.send(Item{3 * i, f(3 * i)}).ok(), "%s: send failed", sc);
        sent_counter.add();
        for (std::uint64_t k = 1; k <= 2; ++k) {
          g.run([sc, id = 3 * i + k, tx] {
            auto mine = tx;
            TB_CHECK(mine.send(Item{id, f(id)}).ok(), "%s: send failed", sc);
            sent_counter.add();
          });
        }
      });
    }
    g.wait();
    { auto drop = std::move(tx); }  // the tasks' copies are gone: this disconnects
    consumer.join();
  }
  check_items(sc.name(), got, 3 * n);
  sc.done(got.size());
}

void parallel_for_send(Suite& suite, int parallelism, std::uint64_t n, std::size_t grain) {
  const std::string name = "parallel_for_send/p" + std::to_string(parallelism);
  auto sc = suite.scenario(name);
  if (!sc) return;
  struct Chunk {
    std::uint64_t begin, end, sum;
  };
  std::vector<Chunk> chunks;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(parallelism));
    auto [tx, rx] = threadbench::sync_channel<Chunk>(8);
    std::thread consumer([&, &rx = rx] {
      for (auto& c : rx) {
        chunks.push_back(c);
        received_counter.add();
      }
    });
    tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n, grain),
                      [&, tx = tx](const tbb::blocked_range<std::uint64_t>& r) {
                        std::uint64_t s = 0;
                        for (auto i = r.begin(); i != r.end(); ++i) s += f(i);
                        auto mine = tx;  // the body is const; send through a clone
                        TB_CHECK(mine.send(Chunk{r.begin(), r.end(), s}).ok(), "%s: send failed", sc.name());
                        sent_counter.add();
                      },
                      tbb::simple_partitioner());  // chunks of at most `grain`: many sends
    { auto drop = std::move(tx); }
    consumer.join();
  }
  std::vector<std::uint8_t> covered(n, 0);
  std::uint64_t total = 0, expect = 0;
  for (const Chunk& c : chunks) {
    if (!TB_CHECK(c.begin < c.end && c.end <= n, "%s: bad range", sc.name())) continue;
    std::uint64_t s = 0;
    for (auto i = c.begin; i < c.end; ++i) {
      TB_CHECK(covered[i]++ == 0, "%s: index %llu in two chunks", sc.name(), static_cast<unsigned long long>(i));
      s += f(i);
    }
    TB_CHECK(s == c.sum, "%s: chunk [%llu, %llu) has a wrong sum", sc.name(),
             static_cast<unsigned long long>(c.begin), static_cast<unsigned long long>(c.end));
    total += c.sum;
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    TB_CHECK(covered[i] == 1, "%s: index %llu not covered", sc.name(), static_cast<unsigned long long>(i));
    expect += f(i);
  }
  TB_CHECK(total == expect, "%s: total sum wrong", sc.name());
  sc.done(n, " (%zu chunks)", chunks.size());
}

void channel_workers(Suite& suite, unsigned workers, std::uint64_t jobs, unsigned parts) {
  auto sc = suite.scenario("channel_workers");
  if (!sc) return;
  struct Job {
    std::uint64_t id;
  };
  std::vector<Item> results;
  {
    auto [jtx, jrx] = threadbench::sync_channel<Job>(4);
    auto [rtx, rrx] = threadbench::channel<Item>();
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w) {
      pool.emplace_back([&, w, &jrx = jrx, rtx = rtx]() mutable {
        for (;;) {
          auto job = jrx.recv();  // several workers share this Receiver
          if (!job.ok()) break;
          const std::uint64_t id = job->id;
          std::vector<std::uint64_t> part(parts, 0);
          if ((id + w) % 2 == 0) {
            tbb::task_group g;
            for (unsigned p = 0; p < parts; ++p) g.run([&part, id, p, parts] { part[p] = f(id * parts + p); });
            g.wait();
          } else {
            tbb::parallel_for(0u, parts, [&part, id, parts](unsigned p) { part[p] = f(id * parts + p); });
          }
          std::uint64_t s = 0;
          for (auto v : part) s += v;
          TB_CHECK(rtx.send(Item{id, s}).ok(), "%s: result send failed", sc.name());
          sent_counter.add();
        }
      });
    }
    { auto drop = std::move(rtx); }
    std::thread feeder([&, jtx = std::move(jtx)]() mutable {
      for (std::uint64_t j = 0; j < jobs; ++j) TB_CHECK(jtx.send(Job{j}).ok(), "%s: job send failed", sc.name());
    });
    for (auto& r : rrx) {
      results.push_back(r);
      received_counter.add();
    }
    feeder.join();
    for (auto& t : pool) t.join();
  }
  std::vector<std::uint8_t> seen(jobs, 0);
  for (const Item& r : results) {
    if (!TB_CHECK(r.id < jobs, "%s: unknown job", sc.name())) continue;
    TB_CHECK(seen[r.id]++ == 0, "%s: job %llu answered twice", sc.name(), static_cast<unsigned long long>(r.id));
    std::uint64_t want = 0;
    for (unsigned p = 0; p < parts; ++p) want += f(r.id * parts + p);
    TB_CHECK(r.value == want, "%s: job %llu wrong", sc.name(), static_cast<unsigned long long>(r.id));
  }
  TB_CHECK(results.size() == jobs, "%s: %zu answers for %llu jobs", sc.name(), results.size(),
           static_cast<unsigned long long>(jobs));
  sc.done(results.size() * parts);
}

void tree_node(tbb::task_group& g, threadbench::Sender<Item> tx, std::uint64_t id, unsigned depth, const char* sc) {
  if (depth == 0) {
    TB_CHECK(tx.send(Item{id, f(id)}).ok(), "%s: leaf send failed", sc);
    sent_counter.add();
    return;
  }
  g.run([&g, tx, id, depth, sc] { tree_node(g, tx, 2 * id, depth - 1, sc); });
  g.run([&g, tx, id, depth, sc] { tree_node(g, tx, 2 * id + 1, depth - 1, sc); });
}

void task_tree(Suite& suite, unsigned depth) {
  auto sc = suite.scenario("task_tree");
  if (!sc) return;
  const std::uint64_t leaves = std::uint64_t{1} << depth;
  std::vector<Item> got;
  {
    auto [tx, rx] = threadbench::sync_channel<Item>(16);
    std::thread consumer([&, &rx = rx] {
      for (auto& it : rx) {
        got.push_back(Item{it.id, it.value});
        received_counter.add();
      }
    });
    tbb::task_group g;
    g.run([&g, tx, depth, sc = sc.name()] { tree_node(g, tx, 0, depth, sc); });
    g.wait();
    { auto drop = std::move(tx); }
    consumer.join();
  }
  // Leaf ids are the numbers [0, 2^depth) (path bits), each once.
  check_items(sc.name(), got, leaves);
  sc.done(got.size());
}

void tbb_queue(Suite& suite, unsigned producers, unsigned consumers, std::uint64_t per_producer) {
  auto sc = suite.scenario("tbb_queue");
  if (!sc) return;
  tbb::concurrent_bounded_queue<Item> q;
  q.set_capacity(8);
  std::vector<std::vector<Item>> got(consumers);
  std::vector<std::thread> ts;
  for (unsigned c = 0; c < consumers; ++c) {
    ts.emplace_back([&, c] {
      for (;;) {
        Item it{};
        q.pop(it);
        if (it.id == UINT64_MAX) break;  // one stop marker per consumer
        got[c].push_back(it);
        received_counter.add();
      }
    });
  }
  std::vector<std::thread> ps;
  for (unsigned p = 0; p < producers; ++p) {
    ps.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        const std::uint64_t id = p * per_producer + i;
        q.push(Item{id, f(id)});
        sent_counter.add();
      }
    });
  }
  for (auto& t : ps) t.join();
  for (unsigned c = 0; c < consumers; ++c) q.push(Item{UINT64_MAX, 0});
  for (auto& t : ts) t.join();
  std::vector<Item> all;
  for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
  check_items(sc.name(), all, producers * per_producer);
  sc.done(all.size());
}

constexpr tbstress::Harness harness{
    .program = "pool_stress",
    .about =
        "oneTBB task_group / parallel_for mixed with channel hand-offs (tasks sending into\n"
        "channels, channel workers spawning tasks), all results checked.\n"
        "Scenario names: task_group_send/<unbounded|cap4|cap0>, parallel_for_send/p<N>,\n"
        "channel_workers, task_tree, tbb_queue.",
    .unit = "results checked"};

void run_all(Suite& suite) {
  // CI-mode sizes, times --scale.
  task_group_send(suite, "unbounded", std::nullopt, suite.n(4000));
  task_group_send(suite, "cap4", 4, suite.n(4000));
  task_group_send(suite, "cap0", 0, suite.n(2000));
  parallel_for_send(suite, 2, suite.n(100000), 64);
  parallel_for_send(suite, 4, suite.n(100000), 64);
  channel_workers(suite, 3, suite.n(2000), 8);
  task_tree(suite, 12 + (suite.opts().scale > 1 ? 2 : 0));
  tbb_queue(suite, 2, 2, suite.n(10000));
}

}  // namespace

int main(int argc, char** argv) { return tbstress::harness_main(argc, argv, harness, run_all); }
