// detached_child: the subprocess lifetime_test runs to show that returning from main ends
// the process without waiting for a detached thread (Rust: main returning kills spawned
// threads that were never joined).
//
// The detached thread would print "thread 1" .. "thread 100", one line every 30 ms (about
// 3 s in all); main prints "main 1" .. "main 4", one every 2.5 ms, and returns after about
// 10 ms. 3 s rather than 1 s because ThreadSanitizer sleeps 1 s at exit by default
// (atexit_sleep_ms), which must not let the thread finish either. Lines go straight to
// fd 1 with one write(2) each: no stdio buffer to flush or lose at exit, and each line
// reaches the pipe whole.
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace {

void say(const char* who, int i) {
  const std::string line = std::string(who) + " " + std::to_string(i) + "\n";
  [[maybe_unused]] const auto written = ::write(STDOUT_FILENO, line.data(), line.size());
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  std::thread([] {
    for (int i = 1; i <= 100; ++i) {
      say("thread", i);
      std::this_thread::sleep_for(30ms);
    }
  }).detach();
  for (int i = 1; i <= 4; ++i) {
    say("main", i);
    std::this_thread::sleep_for(2500us);
  }
  return 0;
}
