/* The ceiling of the policyd benchmark: a Postfix policy server with no logic at all. Every
 * complete request (name=value lines ended by an empty line) is answered "action=DUNNO" and an
 * empty line. epoll, level-triggered, one thread per listening socket; with THREADS > 1 every
 * thread binds its own SO_REUSEPORT socket so that the kernel spreads the connections.
 *
 * usage: mw-policyd-noop PORT [THREADS]   (listens on 127.0.0.1:PORT; prints "ready PORT")
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Postfix requests are a few hundred bytes; more than this is not a policy client. */
#define MAX_REQUEST 65536
#define MAX_EVENTS 256

static const char kAnswer[] = "action=DUNNO\n\n";

struct conn {
  int fd;
  size_t len;     /* bytes buffered */
  size_t line;    /* offset of the start of the line being scanned */
  size_t scanned; /* bytes already searched for a newline */
  size_t pending; /* answer bytes not yet written (the peer stopped reading) */
  int want_out;   /* EPOLLOUT is registered */
  char buf[MAX_REQUEST];
};

static int listen_on(int port, int reuseport) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void drop(int ep, struct conn* c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

/* Writes the answers owed; returns -1 when the connection is gone. */
static int flush_answers(int ep, struct conn* c) {
  while (c->pending > 0) {
    size_t off = (sizeof kAnswer - 1) - (c->pending % (sizeof kAnswer - 1));
    if (off == sizeof kAnswer - 1) off = 0;
    ssize_t n = send(c->fd, kAnswer + off, sizeof kAnswer - 1 - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!c->want_out) {
          struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
          c->want_out = 1;
        }
        return 0;
      }
      if (errno == EINTR) continue;
      return -1;
    }
    c->pending -= (size_t)n;
  }
  if (c->want_out) { /* one syscall per state change, not per answer */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = 0;
  }
  return 0;
}

/* Counts the complete requests in the buffer (each one owes an answer) and keeps the rest. */
static int on_readable(int ep, struct conn* c) {
  for (;;) {
    size_t room = sizeof c->buf - c->len;
    if (room == 0) return -1; /* a request larger than MAX_REQUEST */
    ssize_t n = recv(c->fd, c->buf + c->len, room, 0);
    if (n == 0) return -1;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return -1;
    }
    c->len += (size_t)n;
    size_t owed = 0, consumed = 0;
    while (c->scanned < c->len) {
      char* nl = memchr(c->buf + c->scanned, '\n', c->len - c->scanned);
      if (nl == NULL) {
        c->scanned = c->len;
        break;
      }
      size_t end = (size_t)(nl - c->buf);
      size_t line_len = end - c->line;
      /* An empty line ("\n", or "\r\n" from telnet) ends the request. */
      if (line_len == 0 || (line_len == 1 && c->buf[c->line] == '\r')) {
        ++owed;
        consumed = end + 1;
      }
      c->line = end + 1;
      c->scanned = end + 1;
    }
    if (consumed > 0) {
      memmove(c->buf, c->buf + consumed, c->len - consumed);
      c->len -= consumed;
      c->line -= consumed;
      c->scanned -= consumed;
    }
    if (owed > 0) {
      int was_idle = c->pending == 0;
      c->pending += owed * (sizeof kAnswer - 1);
      if (was_idle && flush_answers(ep, c) < 0) return -1;
    }
    if ((size_t)n < room) break; /* drained: wait for the next event */
  }
  return 0;
}

static void* serve(void* arg) {
  int lfd = *(int*)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("epoll_create1");
    exit(1);
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      exit(1);
    }
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn* nc = malloc(sizeof *nc);
          if (nc == NULL) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          nc->len = nc->line = nc->scanned = nc->pending = 0;
          nc->want_out = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
            close(fd);
            free(nc);
          }
        }
        continue;
      }
      int bad = (events[i].events & (EPOLLERR | EPOLLHUP)) != 0 && !(events[i].events & EPOLLIN);
      if (!bad && (events[i].events & EPOLLOUT) && flush_answers(ep, c) < 0) bad = 1;
      if (!bad && (events[i].events & EPOLLIN) && on_readable(ep, c) < 0) bad = 1;
      if (bad) drop(ep, c);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }
  char* end = NULL;
  long port = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, "%s: bad port '%s' (1-65535)\n", argv[0], argv[1]);
    return 2;
  }
  long threads = 1;
  if (argc == 3) {
    threads = strtol(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end != '\0' || threads < 1 || threads > 256) {
      fprintf(stderr, "%s: bad thread count '%s' (1-256)\n", argv[0], argv[2]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  int* fds = calloc((size_t)threads, sizeof *fds);
  if (fds == NULL) return 1;
  for (long i = 0; i < threads; ++i) {
    fds[i] = listen_on((int)port, threads > 1);
    if (fds[i] < 0) {
      fprintf(stderr, "%s: cannot listen on 127.0.0.1:%ld: %s\n", argv[0], port, strerror(errno));
      return 1;
    }
  }
  printf("ready %ld\n", port);
  fflush(stdout);
  for (long i = 1; i < threads; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, serve, &fds[i]) != 0) {
      fprintf(stderr, "%s: cannot start thread %ld\n", argv[0], i);
      return 1;
    }
  }
  serve(&fds[0]);
  return 0;
}
