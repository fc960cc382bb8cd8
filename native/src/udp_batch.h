// A UDP socket that reads and writes datagrams in batches (recvmmsg /
// sendmmsg) on Node's own event loop, for the bonded path's hot sockets: the
// bonding sender's local SRT port and uplinks, and the passthrough's UDP
// input. node:dgram wakes JavaScript once per datagram and makes one syscall
// per send; this wakes it once per batch.
//
//   const s = new UdpBatchSocket({ family: 4, address: '127.0.0.1', port: 0, coalesceMs: 4, ... },
//                                (data, lengths, sources) => { ... });
//   const t = s.target('10.0.0.1', 5000);  // a destination, by id
//   s.queue(buf, t); s.flush();            // one sendmmsg for everything queued
//   s.close();
//
// Reading: when the socket becomes readable, everything pending is read at
// once and handed to JavaScript in one call: the datagrams back to back in one
// Buffer, their lengths, and the sources that changed (index, address, port).
// With coalesceMs > 0 the socket then sleeps that long before it reads again,
// so a paced stream is read a window at a time (one wake-up per window, not
// per datagram); with 0 it reads as soon as anything arrives. Neither loses
// anything: the kernel's receive buffer holds what arrives meanwhile.
//
// Writing: queue() copies the datagram into the socket's staging area;
// flush() sends all of it with sendmmsg. When the kernel's send buffer is full
// the rest stays staged and goes when the socket is writable again (as
// node:dgram's queue does); a datagram the kernel refuses outright
// (ENETUNREACH, EPERM) is counted and dropped.
#pragma once

namespace fieldcast {}  // exports registered in udp_batch.cc
