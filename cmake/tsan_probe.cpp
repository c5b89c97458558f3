// cmake/tsan_probe.cpp: the smallest TSan program, run once at configure time by
// cmake/TsanTbb.cmake to find out whether the TSan runtime works on this kernel.
#include <thread>

int main() {
  std::thread t([] {});
  t.join();
  return 0;
}
