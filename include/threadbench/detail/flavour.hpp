// threadbench/detail/flavour.hpp: the vocabulary the three flavours (list.hpp, ring.hpp,
// zero.hpp) share with shared.hpp: what a push answers (Push) and how hard a try_push or
// try_pop looks (Probe).
#pragma once

namespace threadbench::detail {

enum class Push { ok, full, disconnected };

// A slot can be "claimed but not finished": a thread won its position and has not yet
// written (or emptied) it. A *quick* probe then answers full/empty, which is fine while the
// caller keeps polling. An *exact* probe waits for such a slot to be finished and answers
// full/empty only when the buffer really is. A caller must use an exact probe before it
// decides to sleep: otherwise it could sleep with a message published behind an unfinished
// slot, having swallowed the wake-up meant for it (two consumers, found by
// stress/channel_liveness.cpp). The cost: an exact probe, and so try_send/try_recv/recv_for,
// can wait for a thread that was descheduled between its claim and its write; that wait is
// a spin-then-yield (Backoff::snooze), never a sleep. crossbeam's channels do the same.
enum class Probe { quick, exact };

}  // namespace threadbench::detail
