package dev.braid.conformance;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One direction of a {@link PathEmulator}: packets leave in order, each after the link finished serializing the
 * ones before it at the bandwidth cap, plus the one-way delay. At most {@code capacity} bytes are on the link at
 * once: {@link #put} (a byte stream) waits for room, {@link #offer} (datagrams) drops what does not fit.
 *
 * <p><b>Thread safety.</b> Thread-safe: any number of producers, one consumer.
 */
final class Link {
  /** A packet and when it arrives; {@code data == null} is the end of a byte stream. */
  record Packet(byte[] data, int length, long due) {}

  private final long delayNanos;
  private final double nanosPerByte;
  private final long capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Packet> packets = new ArrayDeque<>(); // guarded by lock
  private long queued; // guarded by lock
  private long linkFree; // guarded by lock: when the link finishes serializing the last packet
  private boolean aborted; // guarded by lock

  Link(PathEmulator.Profile profile, long capacity) {
    this.delayNanos = profile.oneWayDelay().toNanos();
    this.nanosPerByte = 8e9 / profile.bitsPerSecond();
    this.capacity = capacity;
  }

  /** Queues bytes of a stream ({@code data == null}: its end), waiting while the link is full. */
  void put(byte[] data, int length) throws InterruptedException {
    lock.lock();
    try {
      while (!aborted && queued > 0 && queued + length > capacity) {
        changed.await();
      }
      if (!aborted) {
        enqueue(data, length);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Queues a datagram; false (dropped) when it does not fit. */
  boolean offer(byte[] datagram) {
    lock.lock();
    try {
      if (aborted || queued + datagram.length > capacity) {
        return false;
      }
      enqueue(datagram, datagram.length);
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void enqueue(byte[] data, int length) {
    long now = System.nanoTime();
    long start = Math.max(now, linkFree);
    linkFree = start + (long) (length * nanosPerByte);
    packets.add(new Packet(data, length, linkFree + delayNanos));
    queued += length;
    changed.signalAll();
  }

  /** The next packet once it is due; null once the link was aborted. */
  Packet take() throws InterruptedException {
    lock.lock();
    try {
      while (true) {
        if (aborted) {
          return null;
        }
        Packet head = packets.peek();
        if (head == null) {
          changed.await();
          continue;
        }
        long wait = head.due() - System.nanoTime();
        if (wait > 0) {
          changed.awaitNanos(wait);
          continue;
        }
        packets.poll();
        queued -= head.length();
        changed.signalAll();
        return head;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Stops the link: waiting producers return, the consumer gets null. */
  void abort() {
    lock.lock();
    try {
      aborted = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
