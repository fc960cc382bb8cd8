#include "udp_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <napi.h>

#include "registry.h"

namespace fieldcast {

namespace {

// Datagrams read per recvmmsg call, and at most per hand-off to JavaScript
// (the rest waits in the kernel for the next turn, so one burst cannot hold
// the loop for long).
constexpr int kRecvBatch = 64;
constexpr int kRecvPerCall = 4 * kRecvBatch;
// Datagrams staged for sending before a flush is forced.
constexpr int kSendStage = 256;
constexpr int kSendBatch = 64;

std::string AddressString(const sockaddr_storage& sa, int* port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    *port = ntohs(a->sin6_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    *port = ntohs(a->sin_port);
  }
  return buf;
}

bool SameAddress(const sockaddr_storage& a, socklen_t alen, const sockaddr_storage& b, socklen_t blen) {
  return alen == blen && std::memcmp(&a, &b, alen) == 0;
}

// Parses "1.2.3.4" / "::1" and a port into a sockaddr of the socket's family
// (an IPv4 address on an IPv6 socket becomes ::ffff:1.2.3.4).
bool ParseAddress(int family, const std::string& address, int port, sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (address.empty()) {
      a->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, address.c_str(), &a->sin_addr) != 1) {
      return false;
    }
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(static_cast<uint16_t>(port));
  if (address.empty()) {
    a->sin6_addr = in6addr_any;
  } else if (inet_pton(AF_INET6, address.c_str(), &a->sin6_addr) != 1) {
    in_addr v4{};
    if (inet_pton(AF_INET, address.c_str(), &v4) != 1) return false;
    a->sin6_addr.s6_addr[10] = 0xff;
    a->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
  }
  *len = sizeof(sockaddr_in6);
  return true;
}

Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  auto e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  const char* code = err == EADDRINUSE      ? "EADDRINUSE"
                     : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL"
                     : err == EACCES        ? "EACCES"
                     : err == EINVAL        ? "EINVAL"
                                            : "ESOCKET";
  e.Set("code", Napi::String::New(env, code));
  return e;
}

// The libuv handles live apart from the JavaScript object: they are freed
// only after libuv has closed them, which may be after the object is gone.
struct Handles {
  uv_poll_t poll;
  uv_timer_t timer;
  int open = 2;
};

class UdpBatchSocket : public Napi::ObjectWrap<UdpBatchSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpBatchSocket",
                       {
                           InstanceMethod("target", &UdpBatchSocket::Target),
                           InstanceMethod("queue", &UdpBatchSocket::Queue),
                           InstanceMethod("flush", &UdpBatchSocket::Flush),
                           InstanceMethod("localPort", &UdpBatchSocket::LocalPort),
                           InstanceMethod("stats", &UdpBatchSocket::Stats),
                           InstanceMethod("close", &UdpBatchSocket::Close),
                       });
  }

  explicit UdpBatchSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpBatchSocket>(info) {
    auto env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "new UdpBatchSocket(options, onBatch)");
    }
    auto o = info[0].As<Napi::Object>();
    family_ = o.Get("family").ToNumber().Int32Value() == 6 ? AF_INET6 : AF_INET;
    const std::string address = o.Has("address") && o.Get("address").IsString() ? o.Get("address").As<Napi::String>().Utf8Value() : "";
    const int port = o.Get("port").IsNumber() ? o.Get("port").ToNumber().Int32Value() : 0;
    coalesce_ms_ = o.Get("coalesceMs").IsNumber() ? o.Get("coalesceMs").ToNumber().Int32Value() : 0;
    max_datagram_ = o.Get("maxDatagram").IsNumber() ? o.Get("maxDatagram").ToNumber().Int32Value() : 2048;
    if (port < 0 || port > 65535 || coalesce_ms_ < 0 || coalesce_ms_ > 1000 || max_datagram_ < 64 || max_datagram_ > 65536) {
      throw Napi::RangeError::New(env, "UdpBatchSocket: port, coalesceMs or maxDatagram out of range");
    }
    sockaddr_storage bind_addr{};
    socklen_t bind_len = 0;
    if (!ParseAddress(family_, address, port, &bind_addr, &bind_len)) {
      throw Napi::TypeError::New(env, "UdpBatchSocket: \"" + address + "\" is not an IP address");
    }

    fd_ = socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw ErrnoError(env, "socket", errno);
    const int one = 1;
    if (o.Get("reuseAddr").ToBoolean().Value()) setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family_ == AF_INET6) {
      const int v6only = 0;
      setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    for (const auto& [key, opt] : {std::pair<const char*, int>{"recvBufferBytes", SO_RCVBUF}, {"sendBufferBytes", SO_SNDBUF}}) {
      if (!o.Get(key).IsNumber()) continue;
      const int bytes = o.Get(key).ToNumber().Int32Value();
      setsockopt(fd_, SOL_SOCKET, opt, &bytes, sizeof bytes);
    }
    if (bind(fd_, reinterpret_cast<sockaddr*>(&bind_addr), bind_len) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      throw ErrnoError(env, "bind " + (address.empty() ? std::string("*") : address) + ":" + std::to_string(port), err);
    }
    if (o.Has("multicast") && o.Get("multicast").IsString()) {
      const std::string group = o.Get("multicast").As<Napi::String>().Utf8Value();
      if (!JoinGroup(group)) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        throw ErrnoError(env, "join multicast group " + group, err);
      }
    }

    recv_buf_.resize(static_cast<size_t>(kRecvBatch) * max_datagram_);
    recv_addr_.resize(kRecvBatch);
    recv_iov_.resize(kRecvBatch);
    recv_msgs_.resize(kRecvBatch);
    for (int i = 0; i < kRecvBatch; i++) {
      recv_iov_[i] = {recv_buf_.data() + static_cast<size_t>(i) * max_datagram_, static_cast<size_t>(max_datagram_)};
    }
    stage_buf_.resize(static_cast<size_t>(kSendStage) * max_datagram_);
    stage_len_.resize(kSendStage);
    stage_target_.resize(kSendStage);

    on_batch_ = Napi::Persistent(info[1].As<Napi::Function>());
    async_ = std::make_unique<Napi::AsyncContext>(env, "UdpBatchSocket");

    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    handles_ = new Handles();
    uv_poll_init(loop, &handles_->poll, fd_);
    uv_timer_init(loop, &handles_->timer);
    handles_->poll.data = this;
    handles_->timer.data = this;
    // Kept alive by JavaScript while open, as a node:dgram socket is.
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    UpdatePoll();
  }

  ~UdpBatchSocket() override { Shutdown(); }

 private:
  bool JoinGroup(const std::string& group) {
    if (family_ == AF_INET) {
      ip_mreq m{};
      if (inet_pton(AF_INET, group.c_str(), &m.imr_multiaddr) != 1) {
        errno = EINVAL;
        return false;
      }
      m.imr_interface.s_addr = htonl(INADDR_ANY);
      return setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0;
    }
    ipv6_mreq m{};
    if (inet_pton(AF_INET6, group.c_str(), &m.ipv6mr_multiaddr) != 1) {
      errno = EINVAL;
      return false;
    }
    return setsockopt(fd_, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) == 0;
  }

  // Polls for what is due: reading unless asleep in a coalescing window, writing while datagrams wait.
  void UpdatePoll() {
    if (fd_ < 0) return;
    int events = 0;
    if (!sleeping_) events |= UV_READABLE;
    if (staged_ > 0 && blocked_) events |= UV_WRITABLE;
    if (events == polling_) return;  // each change is an epoll_ctl: none when nothing changed
    polling_ = events;
    if (events == 0) {
      uv_poll_stop(&handles_->poll);
    } else {
      uv_poll_start(&handles_->poll, events, [](uv_poll_t* h, int status, int ev) {
        auto* self = static_cast<UdpBatchSocket*>(h->data);
        if (status < 0) return;
        if (ev & UV_WRITABLE) {
          self->blocked_ = false;
          self->SendStaged();
        }
        if (ev & UV_READABLE) self->Readable();
        self->UpdatePoll();
      });
    }
  }

  void Readable() {
    const int got = Drain();
    if (fd_ < 0) return;
    if (coalesce_ms_ > 0 && got > 0) {
      // More is on its way: read it a window from now, in one go.
      sleeping_ = true;
      uv_timer_start(
          &handles_->timer,
          [](uv_timer_t* t) {
            auto* self = static_cast<UdpBatchSocket*>(t->data);
            self->sleeping_ = false;
            self->Readable();
            self->UpdatePoll();
          },
          static_cast<uint64_t>(coalesce_ms_), 0);
    }
  }

  // Reads what is pending (up to kRecvPerCall) and hands it to JavaScript in one call.
  int Drain() {
    std::vector<uint32_t> lengths;
    std::string data;
    struct Source {
      uint32_t index;
      std::string address;
      int port;
    };
    std::vector<Source> sources;
    int total = 0;
    while (total < kRecvPerCall) {
      for (int i = 0; i < kRecvBatch; i++) {
        std::memset(&recv_msgs_[i], 0, sizeof recv_msgs_[i]);
        recv_msgs_[i].msg_hdr.msg_iov = &recv_iov_[i];
        recv_msgs_[i].msg_hdr.msg_iovlen = 1;
        recv_msgs_[i].msg_hdr.msg_name = &recv_addr_[i];
        recv_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
      const int n = recvmmsg(fd_, recv_msgs_.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) recv_errors_++;
        break;
      }
      if (data.empty()) data.reserve(static_cast<size_t>(n) * 1400);
      for (int i = 0; i < n; i++) {
        const auto& h = recv_msgs_[i].msg_hdr;
        if (h.msg_flags & MSG_TRUNC) {
          truncated_++;
          continue;
        }
        const socklen_t alen = h.msg_namelen;
        if (!have_source_ || !SameAddress(recv_addr_[i], alen, last_source_, last_source_len_)) {
          last_source_ = recv_addr_[i];
          last_source_len_ = alen;
          have_source_ = true;
          int port = 0;
          std::string a = AddressString(recv_addr_[i], &port);
          sources.push_back({static_cast<uint32_t>(lengths.size()), std::move(a), port});
        }
        lengths.push_back(recv_msgs_[i].msg_len);
        data.append(static_cast<const char*>(recv_iov_[i].iov_base), recv_msgs_[i].msg_len);
      }
      total += n;
      received_ += n;
      if (n < kRecvBatch) break;
    }
    if (lengths.empty()) return total;
    Deliver(data, lengths, sources);
    return total;
  }

  template <typename S>
  void Deliver(const std::string& data, const std::vector<uint32_t>& lengths, const std::vector<S>& sources) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    auto buf = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    auto lens = Napi::Uint32Array::New(env, lengths.size());
    std::memcpy(lens.Data(), lengths.data(), lengths.size() * sizeof(uint32_t));
    auto srcs = Napi::Array::New(env, sources.size() * 3);
    for (size_t i = 0; i < sources.size(); i++) {
      srcs.Set(static_cast<uint32_t>(i * 3), Napi::Number::New(env, sources[i].index));
      srcs.Set(static_cast<uint32_t>(i * 3 + 1), Napi::String::New(env, sources[i].address));
      srcs.Set(static_cast<uint32_t>(i * 3 + 2), Napi::Number::New(env, sources[i].port));
    }
    try {
      // MakeCallback: JavaScript's microtasks (where the sends of this batch are flushed) run when it returns.
      on_batch_.MakeCallback(self_.Value(), {buf, lens, srcs}, *async_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value Target(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "target(address, port)");
    const std::string address = info[0].As<Napi::String>().Utf8Value();
    const int port = info[1].ToNumber().Int32Value();
    sockaddr_storage sa{};
    socklen_t len = 0;
    if (port <= 0 || port > 65535 || address.empty() || !ParseAddress(family_, address, port, &sa, &len)) {
      throw Napi::TypeError::New(env, "target: \"" + address + "\" port " + std::to_string(port) + " is not an address of this socket's family");
    }
    for (size_t i = 0; i < targets_.size(); i++) {
      if (SameAddress(targets_[i].first, targets_[i].second, sa, len)) return Napi::Number::New(env, static_cast<double>(i));
    }
    if (targets_.size() >= 4096) throw Napi::RangeError::New(env, "target: too many destinations on one socket");
    targets_.emplace_back(sa, len);
    return Napi::Number::New(env, static_cast<double>(targets_.size() - 1));
  }

  // queue(buf, target): stages a copy; false when the datagram cannot go (too large, closed).
  Napi::Value Queue(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (fd_ < 0) return Napi::Boolean::New(env, false);
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "queue(buf, target)");
    auto arr = info[0].As<Napi::Uint8Array>();
    const uint32_t target = info[1].ToNumber().Uint32Value();
    if (target >= targets_.size()) throw Napi::RangeError::New(env, "queue: unknown target");
    if (arr.ByteLength() > static_cast<size_t>(max_datagram_)) {
      send_errors_++;
      return Napi::Boolean::New(env, false);
    }
    if (staged_ == kSendStage) {
      SendStaged();
      if (staged_ == kSendStage) {  // the kernel's buffer is full and the stage too: this one is lost
        send_errors_++;
        return Napi::Boolean::New(env, false);
      }
    }
    const int slot = (stage_head_ + staged_) % kSendStage;
    std::memcpy(stage_buf_.data() + static_cast<size_t>(slot) * max_datagram_, arr.Data(), arr.ByteLength());
    stage_len_[slot] = static_cast<uint32_t>(arr.ByteLength());
    stage_target_[slot] = target;
    staged_++;
    return Napi::Boolean::New(env, true);
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    SendStaged();
    UpdatePoll();
    return Napi::Number::New(info.Env(), staged_);
  }

  // Sends the stage with sendmmsg, in order, until it is empty or the kernel's buffer is full.
  void SendStaged() {
    if (fd_ < 0) return;
    mmsghdr msgs[kSendBatch];
    iovec iov[kSendBatch];
    while (staged_ > 0 && !blocked_) {
      const int n = std::min(staged_, kSendBatch);
      for (int i = 0; i < n; i++) {
        const int slot = (stage_head_ + i) % kSendStage;
        iov[i] = {stage_buf_.data() + static_cast<size_t>(slot) * max_datagram_, stage_len_[slot]};
        std::memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        auto& t = targets_[stage_target_[slot]];
        msgs[i].msg_hdr.msg_name = &t.first;
        msgs[i].msg_hdr.msg_namelen = t.second;
      }
      const int sent = sendmmsg(fd_, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
          blocked_ = true;  // the rest waits for the socket to be writable
          break;
        }
        // The first datagram was refused (no route, a firewall): drop it, go on with the rest.
        send_errors_++;
        Pop(1);
        continue;
      }
      sent_ += sent;
      Pop(sent);
    }
  }

  void Pop(int n) {
    stage_head_ = (stage_head_ + n) % kSendStage;
    staged_ -= n;
  }

  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return info.Env().Undefined();
    int port = 0;
    AddressString(sa, &port);
    return Napi::Number::New(info.Env(), port);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    auto o = Napi::Object::New(env);
    o.Set("received", Napi::Number::New(env, static_cast<double>(received_)));
    o.Set("sent", Napi::Number::New(env, static_cast<double>(sent_)));
    o.Set("staged", Napi::Number::New(env, staged_));
    o.Set("sendErrors", Napi::Number::New(env, static_cast<double>(send_errors_)));
    o.Set("receiveErrors", Napi::Number::New(env, static_cast<double>(recv_errors_)));
    o.Set("truncated", Napi::Number::New(env, static_cast<double>(truncated_)));
    return o;
  }

  // close(): sends what is staged (once, without waiting), then closes.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    SendStaged();
    Shutdown();
    return info.Env().Undefined();
  }

  void Shutdown() {
    if (fd_ < 0) return;
    uv_poll_stop(&handles_->poll);
    uv_timer_stop(&handles_->timer);
    auto closed = [](uv_handle_t* h) {
      auto* hs = static_cast<Handles*>(h->data);
      if (--hs->open == 0) delete hs;
    };
    handles_->poll.data = handles_;
    handles_->timer.data = handles_;
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->poll), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), closed);
    handles_ = nullptr;
    ::close(fd_);
    fd_ = -1;
    if (!self_.IsEmpty()) self_.Reset();
  }

  int fd_ = -1;
  int family_ = AF_INET;
  int coalesce_ms_ = 0;
  int max_datagram_ = 2048;
  bool sleeping_ = false;
  bool blocked_ = false;
  int polling_ = -1;
  Handles* handles_ = nullptr;
  Napi::FunctionReference on_batch_;
  Napi::ObjectReference self_;
  std::unique_ptr<Napi::AsyncContext> async_;

  std::vector<uint8_t> recv_buf_;
  std::vector<sockaddr_storage> recv_addr_;
  std::vector<iovec> recv_iov_;
  std::vector<mmsghdr> recv_msgs_;
  sockaddr_storage last_source_{};
  socklen_t last_source_len_ = 0;
  bool have_source_ = false;

  std::vector<std::pair<sockaddr_storage, socklen_t>> targets_;
  std::vector<uint8_t> stage_buf_;
  std::vector<uint32_t> stage_len_;
  std::vector<uint32_t> stage_target_;
  int stage_head_ = 0;
  int staged_ = 0;

  uint64_t received_ = 0, sent_ = 0, send_errors_ = 0, recv_errors_ = 0, truncated_ = 0;
};

void InitUdpBatch(Napi::Env env, Napi::Object exports) { exports.Set("UdpBatchSocket", UdpBatchSocket::Define(env)); }

}  // namespace

FIELDCAST_REGISTER(UdpBatch, InitUdpBatch);

}  // namespace fieldcast
