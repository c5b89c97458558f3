// stress/dangling_capture_canary.cpp: Rust's E0373, as C++ lets it compile.
//
// Rust refuses   fn start() -> JoinHandle<()> { let n = 1; thread::spawn(|| n + 1) }
// with E0373 ("closure may outlive the current function, but it borrows `n`"). C++ takes
// the same program: the closure captures a local by reference and runs after the
// function returned. AddressSanitizer must report the stack-use-after-return (asan
// builds; ASAN_OPTIONS=detect_stack_use_after_return=1). Its ctest passes only if it does.
//
// start() is noinline: inlined into main, its local would live in main's frame, which is
// still alive, and there would be nothing to catch (GCC 12 detects it otherwise).
#include <atomic>
#include <cstdio>
#include <thread>

namespace {

std::atomic<bool> returned{false};

[[gnu::noinline]] std::thread start() {
  long borrowed = 41;
  return std::thread([&borrowed] {  // E0373 in Rust; compiles in C++
    while (!returned.load(std::memory_order_acquire)) std::this_thread::yield();
    borrowed += 1;  // start() has returned: its frame is gone
    std::printf("borrowed = %ld\n", borrowed);
  });
}

}  // namespace

int main() {
  std::thread t = start();
  returned.store(true, std::memory_order_release);
  t.join();
  std::printf("dangling_capture_canary: no report: is ASan on with "
              "detect_stack_use_after_return=1?\n");
  return 1;
}
