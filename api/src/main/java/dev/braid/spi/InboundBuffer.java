package dev.braid.spi;

import java.nio.ByteBuffer;
import java.nio.channels.ReadPendingException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

/**
 * A stream's receive side: the bytes received and not yet read, and the one outstanding read.
 *
 * <p><b>Thread safety.</b> Not thread-safe: guarded by the owning stream's lock. Futures are never completed
 * here; completions go into the {@link Deferred} the caller runs after releasing the lock.
 */
final class InboundBuffer {
  private final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>(2); // small: most streams are idle
  private int bytes;
  private ByteBuffer readInto;
  private CompletableFuture<Integer> read;
  private long delivered;

  /** Bytes buffered and not yet read. */
  int bytes() {
    return bytes;
  }

  /** Bytes handed to reads so far. */
  long delivered() {
    return delivered;
  }

  /** Takes ownership of {@code data}. */
  void add(ByteBuffer data) {
    chunks.add(data);
    bytes += data.remaining();
  }

  /** Drops every buffered byte; returns how many were dropped. */
  int discard() {
    int n = bytes;
    chunks.clear();
    bytes = 0;
    return n;
  }

  /** Registers the one outstanding read. */
  void startRead(ByteBuffer dst, CompletableFuture<Integer> future) {
    if (read != null) {
      throw new ReadPendingException();
    }
    readInto = dst;
    read = future;
  }

  /** Forgets the outstanding read if it is {@code future}; returns whether it was. */
  boolean cancelRead(CompletableFuture<Integer> future) {
    if (read == null || read != future) {
      return false;
    }
    read = null;
    readInto = null;
    return true;
  }

  /** Takes the outstanding read (to fail it), or null. */
  CompletableFuture<Integer> takeRead() {
    CompletableFuture<Integer> f = read;
    read = null;
    readInto = null;
    return f;
  }

  /**
   * Serves the outstanding read, if any, from the buffer; at {@code endOfInput} with nothing buffered it
   * returns -1. {@code consumed} (the transport's window hook) runs after the read's future completed.
   */
  void serve(Deferred d, boolean endOfInput, IntConsumer consumed) {
    CompletableFuture<Integer> f = read;
    if (f == null) {
      return;
    }
    if (bytes > 0) {
      ByteBuffer dst = readInto;
      int copied = 0;
      while (dst.hasRemaining() && !chunks.isEmpty()) {
        ByteBuffer head = chunks.peek();
        int n = Math.min(head.remaining(), dst.remaining());
        if (n == head.remaining()) {
          dst.put(head);
          chunks.poll();
        } else {
          ByteBuffer slice = head.duplicate();
          slice.limit(slice.position() + n);
          dst.put(slice);
          head.position(head.position() + n);
        }
        copied += n;
      }
      bytes -= copied;
      delivered += copied;
      read = null;
      readInto = null;
      int n = copied;
      d.add(() -> {
        f.complete(n);
        consumed.accept(n);
      });
    } else if (endOfInput) {
      read = null;
      readInto = null;
      d.add(() -> f.complete(-1));
    }
  }
}
