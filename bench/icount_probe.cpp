// icount_probe: the channel's single-threaded hot paths, a fixed number of times, for
// scripts/icount.sh to count instructions under valgrind --tool=callgrind.
//
//   icount_probe --list             the OP/FLAVOUR pairs it knows, one a line
//   icount_probe OP FLAVOUR N       run OP N times on a channel of FLAVOUR; exit 0 if every
//                                   operation returned what it must (else 1, saying which)
//
// Not a benchmark (it times nothing, and its name does not end in _bench, so bench.sh
// leaves it alone). Google Benchmark picks its own iteration counts, so instructions per
// operation cannot be read from it; here the count is fixed. icount.sh runs each pair
// with N and with 2N operations and divides the difference of the two totals by N: start-up,
// the dynamic loader, building and destroying the channel, and pre-filling it appear in both
// totals and cancel, what remains is the cost of N more operations.
//
// The operations (payload: one 8-byte word, like channel_bench's payload:8):
//   send_recv         send(v) then recv() on the same thread: seq's per-message path
//   try_send_try_recv try_send(v) into room, then try_recv() of a ready message
//   try_recv_empty    try_recv() on an empty channel (returns empty)
//   try_send_full     try_send(v) on a full channel (returns full); rendezvous: no receiver
// Flavours: unbounded (channel<T>()), cap:1024 and cap:1 (sync_channel), cap:0
// (rendezvous, only the two try paths that return at once: there is no receiver).
//
// THREADBENCH_ICOUNT_PLANT (a second build, icount_probe_planted) is a planted regression
// for the gate's own test: after every 20 operations it performs one more of the same kind,
// so each operation costs 1/20 = 5% more channel work, on the channel's own code paths.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "threadbench/channel.hpp"

namespace {

using Word = std::uint64_t;
constexpr int batch_size = 20;   // operations per planted extra one (1/20 = 5%)

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "icount_probe: error: %s\n", what);
  std::exit(1);
}

struct Flavour {
  const char* name;
  std::optional<std::size_t> cap;   // nullopt = unbounded
};
constexpr Flavour flavours[] = {
    {"unbounded", std::nullopt}, {"cap:1024", 1024}, {"cap:1", 1}, {"cap:0", 0}};

auto make(const Flavour& f) {
  return f.cap ? threadbench::sync_channel<Word>(*f.cap) : threadbench::channel<Word>();
}

// One operation of each kind; each checks its outcome (the checks are part of what is
// counted, the same in every build, so they cancel in a comparison).
struct Ops {
  threadbench::Sender<Word>& tx;
  threadbench::Receiver<Word>& rx;
  Word sum = 0;

  void send_recv(Word v) {
    if (!tx.send(v)) die("send failed");
    auto r = rx.recv();
    if (!r) die("recv returned no message");
    sum += *r;
  }
  void try_send_try_recv(Word v) {
    if (!tx.try_send(v)) die("try_send into room failed");
    auto r = rx.try_recv();
    if (!r) die("try_recv of a ready message failed");
    sum += *r;
  }
  void try_recv_empty(Word) {
    auto r = rx.try_recv();
    if (!r.empty()) die("try_recv on an empty channel did not return empty");
    sum += 1;
  }
  void try_send_full(Word v) {
    auto r = tx.try_send(v);
    if (!r.full()) die("try_send on a full channel did not return full");
    sum += r.value();
  }
};

using Op = void (Ops::*)(Word);
struct OpInfo {
  const char* name;
  Op op;
  bool rendezvous_ok;   // meaningful on cap:0 (returns at once with no receiver)
  bool needs_full;      // pre-fill the channel to its capacity first
};
constexpr OpInfo op_infos[] = {
    {"send_recv", &Ops::send_recv, false, false},
    {"try_send_try_recv", &Ops::try_send_try_recv, false, false},
    {"try_recv_empty", &Ops::try_recv_empty, true, false},
    {"try_send_full", &Ops::try_send_full, true, true},
};

bool meaningful(const OpInfo& op, const Flavour& f) {
  if (f.cap && *f.cap == 0) return op.rendezvous_ok;
  if (op.needs_full) return f.cap.has_value();   // an unbounded channel is never full
  return true;
}

// Runs op n times (n a multiple of batch_size) and returns the checksum it expects.
Word run(const OpInfo& info, const Flavour& f, long n) {
  auto [tx, rx] = make(f);
  if (info.needs_full) {
    for (std::size_t i = 0; i < *f.cap; ++i)
      if (!tx.try_send(Word(i))) die("pre-filling the channel failed");
  }
  Ops ops{tx, rx};
  for (long b = 0; b < n / batch_size; ++b) {
    for (int i = 0; i < batch_size; ++i) (ops.*info.op)(Word(b * batch_size + i));
#ifdef THREADBENCH_ICOUNT_PLANT
    (ops.*info.op)(Word(b));   // the planted 5%: one more operation per batch
#endif
  }
  return ops.sum;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--list") {
    for (const auto& op : op_infos)
      for (const auto& f : flavours)
        if (meaningful(op, f)) std::printf("%s %s\n", op.name, f.name);
    return 0;
  }
  if (argc != 4) die("usage: icount_probe --list | icount_probe OP FLAVOUR N");
  const OpInfo* op = nullptr;
  const Flavour* flavour = nullptr;
  for (const auto& o : op_infos)
    if (std::string_view(argv[1]) == o.name) op = &o;
  for (const auto& f : flavours)
    if (std::string_view(argv[2]) == f.name) flavour = &f;
  if (!op) die("unknown OP (see --list)");
  if (!flavour) die("unknown FLAVOUR (see --list)");
  if (!meaningful(*op, *flavour)) die("this OP is not meaningful on this FLAVOUR (see --list)");
  char* end = nullptr;
  long n = std::strtol(argv[3], &end, 10);
  if (*end != '\0' || n <= 0 || n % batch_size != 0) die("N must be a positive multiple of 20");
  Word sum = run(*op, *flavour, n);
  // Printed so the work cannot be optimised away; icount.sh ignores it.
  std::printf("%s %s %ld checksum %llu\n", op->name, flavour->name, n,
              static_cast<unsigned long long>(sum));
  return 0;
}
