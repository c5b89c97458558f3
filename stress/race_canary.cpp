// stress/race_canary.cpp: a planted data race that ThreadSanitizer must report.
//
//   race_canary threads|channel|tbb [rounds]
//
// Its ctests (tsan builds only) pass only if the output contains "WARNING:
// ThreadSanitizer: data race" with tsan.supp in force. That proves the suppressions hide
// no race in our code, and (the tbb variant) that the TSan-built oneTBB still lets TSan
// see races between tasks.
//
// Why it cannot flake: TSan decides a race from happens-before (vector clocks), not from
// timing, so an unordered pair of accesses is reported whichever runs first - provided
// the two accesses do not happen at the very same instant (TSan's shadow-memory check is
// not atomic across threads, and two truly simultaneous accesses can each miss the
// other). So the racing threads take turns in real time through a relaxed atomic flag,
// which TSan gives no happens-before: the second access always finds the first one in
// the shadow memory. Each round races on a fresh variable; rounds repeat (default 50) in
// case a round's two accesses end up ordered (both tbb tasks run by one thread, one
// after the other). With halt_on_error=1 the first report ends the run.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include <tbb/task_group.h>

#include "threadbench/channel.hpp"

namespace {

// One side's access is done; the other waits for it (up to ~1 s). Relaxed, so the turn
// taking orders nothing as far as TSan is concerned.
void done(std::atomic<bool>& flag) { flag.store(true, std::memory_order_relaxed); }
void await(const std::atomic<bool>& flag) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!flag.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
}

// The racy accesses, out of line so that reports name them.
[[gnu::noinline]] void racy_write(long* x, long v) { *x = v; }
[[gnu::noinline]] long racy_read(const long* x) { return *x; }

void plain_threads() {
  auto x = std::make_unique<long>(0);
  std::atomic<bool> first{false};
  std::thread t([&] {
    racy_write(x.get(), 1);
    done(first);
  });
  await(first);
  racy_write(x.get(), 2);  // no happens-before with the thread's write: the planted race
  t.join();
}

// The channel orders what the sender wrote BEFORE send with what the receiver does after
// recv; a write AFTER send is a race with the receiver's read.
void around_channel() {
  auto x = std::make_unique<long>(0);
  std::atomic<bool> first{false};
  auto [tx, rx] = threadbench::channel<long*>();
  std::thread t([&, tx = std::move(tx)]() mutable {
    racy_write(x.get(), 1);  // ordered before the receiver's read by the channel
    (void)tx.send(x.get());
    racy_write(x.get(), 3);  // not ordered: the planted race
    done(first);
  });
  auto r = rx.recv();
  await(first);
  if (r.ok()) std::printf("read %ld\n", racy_read(*r));
  t.join();
}

void tbb_tasks() {
  auto x = std::make_unique<long>(0);
  std::atomic<bool> first{false};
  tbb::task_group g;
  g.run([&] {
    racy_write(x.get(), 1);
    done(first);
  });
  g.run([&] {
    await(first);
    racy_write(x.get(), 2);
  });
  g.wait();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: race_canary threads|channel|tbb [rounds]\n");
    return 2;
  }
  void (*body)() = nullptr;
  if (std::strcmp(argv[1], "threads") == 0) body = plain_threads;
  if (std::strcmp(argv[1], "channel") == 0) body = around_channel;
  if (std::strcmp(argv[1], "tbb") == 0) body = tbb_tasks;
  if (!body) {
    std::fprintf(stderr, "race_canary: error: unknown variant '%s'\n", argv[1]);
    return 2;
  }
  char* end = nullptr;
  const long rounds = argc == 3 ? std::strtol(argv[2], &end, 10) : 50;
  if (argc == 3 && (*end != '\0' || rounds < 1)) {
    std::fprintf(stderr, "race_canary: error: bad round count '%s'\n", argv[2]);
    return 2;
  }
  for (long i = 0; i < rounds; ++i) body();
  std::printf("race_canary: %s: %ld rounds and no race reported: is TSan on, or is the race "
              "suppressed?\n", argv[1], rounds);
  return 1;
}
