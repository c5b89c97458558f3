// stress/channel_flavour.hpp: a channel flavour as the channel harnesses name and open it.
// Each harness lists the flavours it runs (its own `flavours[]`); this is the one place
// that says what a flavour is and how one is opened.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>

#include "threadbench/channel.hpp"

namespace tbstress {

struct Flavour {
  const char* name;                // the scenario-name part: unbounded, cap0, cap1, ...
  std::optional<std::size_t> cap;  // nullopt = unbounded, 0 = rendezvous
  bool rendezvous() const { return cap && *cap == 0; }
};

template <class T>
std::pair<threadbench::Sender<T>, threadbench::Receiver<T>> open(const Flavour& f) {
  return f.cap ? threadbench::sync_channel<T>(*f.cap) : threadbench::channel<T>();
}

}  // namespace tbstress
