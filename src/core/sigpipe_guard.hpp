// SIGPIPE blocked in the calling thread for one scope. Writing to a pipe or socket whose
// reader is gone (a child that exited without reading its stdin, a Redis that closed the
// connection) raises SIGPIPE, whose default action kills the whole process; inside the scope
// the write fails with EPIPE instead. A SIGPIPE the scope caused (note_epipe) is consumed
// before the old mask is restored, so it is never delivered late; one that was already
// pending before the scope is left alone.
#pragma once

#include <pthread.h>

#include <cerrno>
#include <csignal>
#include <ctime>

namespace mw {

class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &block, &old_);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  ~SigpipeGuard() {
    const int saved = errno;  // callers read errno after the guard's scope ends
    if (caused_ && !was_pending_) {
      sigset_t only;
      sigemptyset(&only);
      sigaddset(&only, SIGPIPE);
      timespec zero{0, 0};
      while (::sigtimedwait(&only, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved;
  }
  // The write in this scope failed with EPIPE: a SIGPIPE is pending because of it.
  void note_epipe() { caused_ = true; }

 private:
  sigset_t old_{};
  bool was_pending_ = false;
  bool caused_ = false;
};

}  // namespace mw
