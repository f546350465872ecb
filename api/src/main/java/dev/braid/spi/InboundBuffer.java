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
  private ArrayDeque<ByteBuffer> chunks; // made with the first chunk that waits: most streams never buffer one
  private int bytes;
  private ByteBuffer readInto;
  private CompletableFuture<Integer> read;
  private long delivered;
  /** Bytes {@link #copyIn} put straight into the outstanding read's buffer; {@link #serve} reports them. */
  private int placed;

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
    if (chunks == null) {
      chunks = new ArrayDeque<>(2);
    }
    chunks.add(data);
    bytes += data.remaining();
  }

  /**
   * Copies {@code src}, which the caller keeps: straight into the outstanding read's buffer when nothing is buffered
   * ahead of it (one copy, no allocation), the rest into a buffer of its own. The caller must {@link #serve} before it
   * releases the lock, so that bytes placed in the read's buffer are reported with it.
   */
  void copyIn(ByteBuffer src) {
    if (read != null && bytes == 0 && readInto.hasRemaining()) {
      int n = Math.min(src.remaining(), readInto.remaining());
      ByteBuffer part = src.duplicate();
      part.limit(part.position() + n);
      readInto.put(part);
      src.position(src.position() + n);
      placed += n;
    }
    if (src.hasRemaining()) {
      ByteBuffer copy = ByteBuffer.allocate(src.remaining());
      copy.put(src);
      copy.flip();
      add(copy);
    }
  }

  /** Drops every buffered byte; returns how many were dropped. */
  int discard() {
    int n = bytes;
    if (chunks != null) {
      chunks.clear();
    }
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
    if (read == null || read != future || placed > 0) {
      return false;
    }
    read = null;
    readInto = null;
    return true;
  }

  /** Takes the outstanding read (to fail it), or null. */
  CompletableFuture<Integer> takeRead() {
    if (placed > 0) {
      throw new IllegalStateException("bytes placed in the read's buffer were not served");
    }
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
    if (bytes > 0 || placed > 0) {
      ByteBuffer dst = readInto;
      int copied = 0;
      while (dst.hasRemaining() && chunks != null && !chunks.isEmpty()) {
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
      copied += placed;
      placed = 0;
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
