// Conformance tests of threadbench::channel against Rust std::sync::mpsc's documented
// behaviour: one test per behaviour, each run over every flavour it applies to.
#include "threadbench/channel.hpp"
#include "channel_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using threadbench::channel;
using threadbench::Receiver;
using threadbench::Sender;
using threadbench::sync_channel;

namespace {

using tbtest::Blocked;
using tbtest::Cap;
using tbtest::cap_name;
using tbtest::Counted;
using tbtest::make;
using tbtest::moved;
using tbtest::wait_parked_or_returned;
using tbtest::within;

// A thread that must still be blocked is checked once the kernel shows it parked (or it
// returned: a bug), never after a fixed sleep; a thread that should have been released is
// watched for progress (within), never timed. So a loaded machine can fail neither.

class AllFlavours : public testing::TestWithParam<Cap> {};
class Buffered : public testing::TestWithParam<Cap> {};  // capacity >= 1 or unbounded
class Blocking : public testing::TestWithParam<Cap> {};  // send can block: bounded

INSTANTIATE_TEST_SUITE_P(Channel, AllFlavours,
                         testing::Values(Cap{}, Cap{0}, Cap{1}, Cap{3}, Cap{1024}), cap_name);
INSTANTIATE_TEST_SUITE_P(Channel, Blocking, testing::Values(Cap{0}, Cap{1}, Cap{3}, Cap{1024}),
                         cap_name);
INSTANTIATE_TEST_SUITE_P(Channel, Buffered, testing::Values(Cap{}, Cap{1}, Cap{3}, Cap{1024}),
                         cap_name);


// Copyable only (no move constructor), and its copy throws on demand: the kind of type
// that must not be lost or duplicated when a copy fails half way.
struct ThrowingCopy {
  static inline std::atomic<int> live{0};
  static inline bool throw_now = false;
  int v;
  explicit ThrowingCopy(int x) : v(x) { ++live; }
  ThrowingCopy(const ThrowingCopy& o) : v(o.v) {
    if (throw_now) throw std::runtime_error("copy failed");
    ++live;
  }
  ~ThrowingCopy() { --live; }
};

}  // namespace

// The watchdog itself can fail: a recv that nothing will answer ends the test process
// with exit 1 and names what it waited for.
TEST(ChannelTestDeadline, ABlockedStepFailsWithinItsDeadlineSayingWhatItWaitedFor) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto hang = [] {
    auto [tx, rx] = channel<int>();
    within("a recv that no send will answer", [&rx = rx] { (void)rx.recv(); }, 200ms);
  };
  EXPECT_EXIT(hang(), testing::ExitedWithCode(1),
              "DEADLINE: .*: no progress for [0-9.]+ s .* while waiting for a recv that no send "
              "will answer; progress in this step: 0");
}

TEST(Channel, UnboundedSendNeverBlocks) {
  auto [tx, rx] = channel<int>();
  within("10'000 sends into an unbounded channel (send never blocks)", [&tx = tx] {
    for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(tx.send(i).ok());
  });
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(rx.try_recv().value(), i);
  EXPECT_TRUE(rx.try_recv().empty());
}

TEST_P(AllFlavours, SendAfterReceiverDroppedGivesValueBack) {
  auto [tx, rx] = make<std::string>(GetParam());
  { auto gone = std::move(rx); }
  auto r = within("a send after the Receiver was dropped to return disconnected",
                  [&tx = tx] { return tx.send("kept"); });
  ASSERT_TRUE(r.disconnected());
  EXPECT_EQ(r.value(), "kept");
  auto t = tx.try_send("again");
  ASSERT_TRUE(t.disconnected());
  EXPECT_EQ(t.value(), "again");
}

TEST_P(Blocking, BlockedSenderGetsValueBackWhenReceiverDrops) {
  auto [tx, rx] = make<int>(GetParam());
  for (std::size_t i = 0; i < *GetParam(); ++i) ASSERT_TRUE(tx.try_send(-1).ok());  // fill
  Blocked blocked;
  std::optional<threadbench::SendResult<int>> result;
  std::thread sender([&, tx = std::move(tx)]() mutable {
    blocked.enter();
    result.emplace(tx.send(42));
    blocked.left();
  });
  wait_parked_or_returned("the sender to park in send() on a full channel", blocked);
  EXPECT_FALSE(blocked.has_returned()) << "send should block on a full (or rendezvous) channel";
  { auto gone = std::move(rx); }
  within("the sender blocked on a full channel to return when the Receiver dropped",
         [&] { sender.join(); });
  ASSERT_TRUE(result->disconnected());
  EXPECT_EQ(result->value(), 42);
}

TEST_P(AllFlavours, BlockedReceiverWakesWhenLastSenderDrops) {
  auto [tx, rx] = make<int>(GetParam());
  auto clone = tx;
  Blocked blocked;
  std::optional<threadbench::RecvResult<int>> result;
  std::thread receiver([&, rx = std::move(rx)]() mutable {
    blocked.enter();
    result.emplace(rx.recv());
    blocked.left();
  });
  { auto gone = std::move(tx); }
  wait_parked_or_returned("the receiver to park in recv() (a clone keeps the channel open)",
                          blocked);
  EXPECT_FALSE(blocked.has_returned()) << "a clone is still alive: the channel must stay open";
  { auto gone = std::move(clone); }
  within("the receiver blocked in recv to wake when the last Sender dropped",
         [&] { receiver.join(); });
  EXPECT_TRUE(result->disconnected());
}

TEST_P(Buffered, BufferedMessagesAreDeliveredAfterDisconnect) {
  auto [tx, rx] = make<int>(GetParam());
  const int n = GetParam() ? static_cast<int>(std::min<std::size_t>(*GetParam(), 3)) : 3;
  within("sends that fit in the buffer", [&, &tx = tx] {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(tx.send(i).ok());
  });
  { auto gone = std::move(tx); }
  within("the buffered messages, then disconnected, after the last Sender dropped", [&, &rx = rx] {
    for (int i = 0; i < n; ++i) {
      auto r = rx.recv();
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, i);
    }
    EXPECT_TRUE(rx.recv().disconnected());
    EXPECT_TRUE(rx.try_recv().disconnected());
    EXPECT_TRUE(rx.recv_for(1ms).disconnected());
  });
}

TEST(Channel, RendezvousSendReturnsOnlyAfterTheReceiverTookTheValue) {
  auto [tx, rx] = sync_channel<int>(0);
  Blocked blocked;
  std::thread sender([&, tx = std::move(tx)]() mutable {
    blocked.enter();
    EXPECT_TRUE(tx.send(7).ok());
    blocked.left();
  });
  wait_parked_or_returned("the rendezvous sender to park in send()", blocked);
  EXPECT_FALSE(blocked.has_returned()) << "nobody received: a rendezvous send must still be blocked";
  auto r = within("recv of the value a rendezvous sender is blocked on",
                  [&rx = rx] { return rx.recv(); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  within("the rendezvous sender to return after its value was taken", [&] { sender.join(); });
  EXPECT_TRUE(blocked.has_returned());
}

TEST(Channel, RendezvousTrySendIsFullWithoutAWaitingReceiver) {
  auto [tx, rx] = sync_channel<int>(0);
  auto r = tx.try_send(1);
  ASSERT_TRUE(r.full());
  EXPECT_EQ(r.value(), 1);
  // With a receiver blocked in recv, try_send hands the value over.
  std::optional<threadbench::RecvResult<int>> got;
  std::thread receiver([&] { got.emplace(rx.recv()); });
  bool sent = false;
  within("a try_send to meet the receiver blocked in recv", [&, &tx = tx] {
    while (!sent) {
      sent = tx.try_send(2).ok();
      if (!sent) std::this_thread::sleep_for(1ms);
    }
  });
  within("the receiver to return with the value try_send handed over", [&] { receiver.join(); });
  ASSERT_TRUE(sent);
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(**got, 2);
}

TEST(Channel, TrySendFullGivesValueBack) {
  auto [tx, rx] = sync_channel<std::string>(2);
  EXPECT_TRUE(tx.try_send("a").ok());
  EXPECT_TRUE(tx.try_send("b").ok());
  auto r = tx.try_send("c");
  ASSERT_TRUE(r.full());
  EXPECT_EQ(r.value(), "c");
  EXPECT_EQ(within("recv of a buffered message", [&rx = rx] { return rx.recv(); }).value(), "a");
  EXPECT_TRUE(tx.try_send("c").ok());
}

TEST_P(AllFlavours, TryRecvEmptyThenDisconnected) {
  auto [tx, rx] = make<int>(GetParam());
  EXPECT_TRUE(rx.try_recv().empty());
  { auto gone = std::move(tx); }
  EXPECT_TRUE(rx.try_recv().disconnected());
}

TEST_P(AllFlavours, RecvForTimesOutWhenNothingArrives) {
  auto [tx, rx] = make<int>(GetParam());
  within("recv_for(20ms) / recv_until(now + 5ms) to time out", [&rx = rx] {
    const auto start = std::chrono::steady_clock::now();
    auto r = rx.recv_for(20ms);
    EXPECT_TRUE(r.timed_out());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
    auto u = rx.recv_until(std::chrono::steady_clock::now() + 5ms);
    EXPECT_TRUE(u.timed_out());
    auto s = rx.recv_until(std::chrono::system_clock::now() + 5ms);
    EXPECT_TRUE(s.timed_out());
  });
}

TEST_P(AllFlavours, RecvForReturnsAMessageThatArrivesInTime) {
  auto [tx, rx] = make<int>(GetParam());
  std::thread sender([tx = std::move(tx)]() mutable {
    std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(tx.send(5).ok());
  });
  // recv_for's own limit (60 s) is far beyond the step's deadline: the message is sent
  // after 10 ms, and recv_for must return it then, not at its timeout.
  auto r = within("recv_for(60s) of a message sent after 10 ms", [&rx = rx] { return rx.recv_for(60s); });
  within("the sender to finish", [&] { sender.join(); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
}

TEST_P(Buffered, CloneKeepsTheChannelOpen) {
  auto [tx, rx] = make<int>(GetParam());
  {
    auto clone = tx;
    { auto gone = std::move(tx); }
    within("a send and recv through a clone", [&, &rx = rx] {
      EXPECT_TRUE(clone.send(1).ok());
      EXPECT_EQ(rx.recv().value(), 1);
    });
    EXPECT_TRUE(rx.try_recv().empty()) << "a clone is alive: not disconnected";
  }
  EXPECT_TRUE(rx.try_recv().disconnected());
}

TEST_P(AllFlavours, MoveOnlyPayloads) {
  auto [tx, rx] = make<std::unique_ptr<int>>(GetParam());
  std::thread sender([tx = std::move(tx)]() mutable {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(tx.send(std::make_unique<int>(i)).ok());
  });
  within("100 move-only messages, then disconnected", [&, &rx = rx] {
    for (int i = 0; i < 100; ++i) {
      auto r = rx.recv();
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(**r, i);
    }
    sender.join();
    EXPECT_TRUE(rx.recv().disconnected());
  });
  if (sender.joinable()) within("the sender to finish", [&] { sender.join(); });
}

TEST_P(AllFlavours, MoveOnlyValueComesBackOnDisconnect) {
  auto [tx, rx] = make<std::unique_ptr<int>>(GetParam());
  { auto gone = std::move(rx); }
  auto p = std::make_unique<int>(9);
  int* raw = p.get();
  auto r = within("a send after the Receiver was dropped to return disconnected",
                  [&, &tx = tx] { return tx.send(std::move(p)); });
  ASSERT_TRUE(r.disconnected());
  EXPECT_EQ(r.value().get(), raw) << "the very same object comes back";
}

TEST_P(Buffered, ThrowingCopyLosesAndDuplicatesNothing) {
  ASSERT_EQ(ThrowingCopy::live, 0);
  within("sends that fit in the buffer and receives of what was sent", [&] {
    auto [tx, rx] = make<ThrowingCopy>(GetParam());
    ThrowingCopy a(1), b(2);
    ASSERT_TRUE(tx.send(a).ok());
    ThrowingCopy::throw_now = true;
    // Copy fails at the call (lvalue argument) and inside the channel (a prvalue argument
    // is built in place, so the only copy is the channel's own).
    EXPECT_THROW((void)tx.send(b), std::runtime_error);
    EXPECT_THROW((void)tx.try_send(b), std::runtime_error);
    EXPECT_THROW((void)tx.send(ThrowingCopy(3)), std::runtime_error);
    EXPECT_THROW((void)tx.try_send(ThrowingCopy(4)), std::runtime_error);
    // Receiving never copies, so it works even while copies throw.
    auto r = rx.recv();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->v, 1);
    EXPECT_TRUE(rx.try_recv().empty()) << "no failed send left anything behind";
    ThrowingCopy::throw_now = false;
    EXPECT_EQ(b.v, 2) << "the caller still has the value that failed to copy";
    ASSERT_TRUE(tx.send(b).ok());
    auto r2 = rx.recv();
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->v, 2);
    EXPECT_TRUE(rx.try_recv().empty()) << "nothing was duplicated";
  });
  ThrowingCopy::throw_now = false;
  EXPECT_EQ(ThrowingCopy::live, 0) << "no leak and no double destruction";
}

TEST_P(Buffered, UndeliveredMessagesAreDestroyedWithTheChannel) {
  ASSERT_EQ(Counted::live, 0);
  within("sends that fit in the buffer and one recv", [&] {
    auto [tx, rx] = make<Counted>(GetParam());
    const int n = GetParam() ? static_cast<int>(*GetParam()) : 200;  // 200 spans blocks
    for (int i = 0; i < n; ++i) ASSERT_TRUE(tx.send(Counted(i)).ok());
    if (n > 1) {
      auto r = rx.recv();  // consume one so a partly drained buffer is covered too
      ASSERT_TRUE(r.ok());
    }
    EXPECT_GT(Counted::live, 0);
  });
  EXPECT_EQ(Counted::live, 0);
}

TEST_P(Buffered, RangeForEndsOnDisconnectAndTryIterDoesNotBlock) {
  auto [tx, rx] = make<int>(GetParam());
  within("try_iter over an empty channel (must not block)", [&rx = rx] {
    for (int v : rx.try_iter()) ADD_FAILURE() << "nothing was sent, yet try_iter gave " << v;
  });
  std::thread sender([tx = std::move(tx)]() mutable {
    for (int i = 1; i <= 100; ++i) ASSERT_TRUE(tx.send(i).ok());
  });
  int sum = 0, count = 0;
  within("a range-for to end after 100 messages and the Sender's drop", [&, &rx = rx] {
    for (int& v : rx) {
      sum += v;
      ++count;
    }
    sender.join();
  });
  EXPECT_EQ(count, 100);
  EXPECT_EQ(sum, 5050);
}

TEST(Channel, TryIterDrainsWhatIsBuffered) {
  auto [tx, rx] = channel<int>();
  within("5 sends into an unbounded channel", [&tx = tx] {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.send(i).ok());
  });
  std::vector<int> got;
  within("try_iter over 5 buffered messages (must not block)", [&, &rx = rx] {
    for (int v : rx.try_iter()) got.push_back(v);
  });
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(rx.try_recv().empty()) << "the sender is alive: empty, not disconnected";
}

// Starts producers threads, each sending (its id, 0..per_producer-1) through its own clone
// of tx, then drops tx: the channel disconnects when the last producer is done.
static std::vector<std::thread> start_producers(Sender<std::pair<int, int>> tx, int producers,
                                                int per_producer) {
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([p, per_producer, tx]() mutable {
      for (int i = 0; i < per_producer; ++i) {
        ASSERT_TRUE(tx.send({p, i}).ok());
        moved();
      }
    });
  }
  return threads;
}

// Joins every thread, under the step deadline.
static void join_all(std::vector<std::thread>& threads, const char* what) {
  within(what, [&] {
    for (auto& t : threads) t.join();
  });
}

// Exactly-once delivery and per-producer FIFO with several producers, one receiver.
TEST_P(AllFlavours, ManyProducersExactlyOnceInProducerOrder) {
  constexpr int producers = 4, per_producer = 20'000;
  auto [tx, rx] = make<std::pair<int, int>>(GetParam());
  std::vector<std::thread> threads = start_producers(std::move(tx), producers, per_producer);
  std::vector<int> next(producers, 0);
  long total = 0;
  within("4 x 20'000 messages, then disconnected", [&, &rx = rx] {
    for (auto& [p, i] : rx) {
      ASSERT_EQ(i, next[p]) << "producer " << p << " out of order or duplicated";
      ++next[p];
      ++total;
      moved();
    }
  });
  join_all(threads, "the producers to finish");
  EXPECT_EQ(total, long{producers} * per_producer);
  for (int p = 0; p < producers; ++p) EXPECT_EQ(next[p], per_producer);
}

// Several threads receiving through one Receiver reference: every message exactly once,
// and each receiver sees each producer's messages in increasing order.
TEST_P(AllFlavours, ConcurrentReceiversExactlyOnce) {
  constexpr int producers = 3, consumers = 3, per_producer = 20'000;
  auto [tx, rx] = make<std::pair<int, int>>(GetParam());
  std::vector<std::thread> threads = start_producers(std::move(tx), producers, per_producer);
  std::vector<std::vector<int>> seen(consumers, std::vector<int>(producers * per_producer, 0));
  std::vector<std::thread> receivers;
  for (int c = 0; c < consumers; ++c) {
    receivers.emplace_back([&, c] {
      std::vector<int> last(producers, -1);
      for (auto& [p, i] : rx) {
        EXPECT_GT(i, last[p]) << "receiver " << c << " saw producer " << p << " go backwards";
        last[p] = i;
        ++seen[c][p * per_producer + i];
        moved();
      }
    });
  }
  join_all(threads, "3 producers to send 20'000 messages each to 3 receivers");
  join_all(receivers, "3 receivers to drain the channel and see it disconnected");
  for (int k = 0; k < producers * per_producer; ++k) {
    int n = 0;
    for (int c = 0; c < consumers; ++c) n += seen[c][k];
    ASSERT_EQ(n, 1) << "message " << k << " delivered " << n << " times";
  }
}

// kit/short_slices.hpp: the slice asked for before main reaches the threads a test starts
// (the busy stage depends on it). Skipped where the kernel has no per-thread slices (before
// Linux 6.12) or THREADBENCH_SHORT_SLICES=0 left the default.
TEST(Kit, ShortSlicesReachTheThreadsATestStarts) {
  if (tbtest::short_slices == 0) {
    if (threadbench::kit::short_slices_turned_off()) GTEST_SKIP() << "THREADBENCH_SHORT_SLICES=0";
    // A kernel that reports a slice (Linux 6.12+) can grant one: then the request failed.
    ASSERT_EQ(threadbench::kit::slice_in_force_ns(), 0u)
        << "the kernel reports per-thread slices, but the request for short ones did not take";
    GTEST_SKIP() << "no per-thread slices on this kernel (before Linux 6.12)";
  }
  EXPECT_EQ(tbtest::short_slices, threadbench::kit::short_slice_ns);
  std::uint64_t seen = 0;
  std::thread([&] {
    threadbench::kit::SchedAttr attr{};
    ASSERT_EQ(::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0), 0);
    seen = attr.sched_runtime;
  }).join();
  EXPECT_EQ(seen, threadbench::kit::short_slice_ns) << "a thread started by the test runs with the kernel's default slice";
}
