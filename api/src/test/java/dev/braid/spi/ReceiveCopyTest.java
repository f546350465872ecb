package dev.braid.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.braid.MuxedStream;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@code receiveCopy}: bytes in a buffer the transport keeps go straight into a waiting read's buffer when nothing is
 * buffered ahead of them, the rest is copied and buffered; the stream never keeps the transport's buffer, every byte
 * arrives once and in order, and the window credit ({@code consumed}) counts each byte once.
 */
class ReceiveCopyTest {
  @Test
  void bytesGoStraightIntoAWaitingReadTheRestIsBufferedAndTheSourceIsNeverKept() throws Exception {
    Stream s = new Stream(new Conn());
    ByteBuffer dst = ByteBuffer.allocate(4);
    CompletableFuture<Integer> read = s.read(dst);
    byte[] wire = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    ByteBuffer view = ByteBuffer.allocateDirect(10).put(wire).flip();
    s.deliver(view);
    Arrays.fill(wire, (byte) 0);
    view.clear();
    view.put(new byte[10]); // the transport reuses its buffer at once
    assertEquals(4, read.get(5, TimeUnit.SECONDS));
    assertArrayEquals(new byte[] {1, 2, 3, 4}, dst.array());
    assertEquals(6, s.buffered());
    ByteBuffer rest = ByteBuffer.allocate(16);
    assertEquals(6, s.read(rest).get(5, TimeUnit.SECONDS));
    assertArrayEquals(new byte[] {5, 6, 7, 8, 9, 10}, Arrays.copyOf(rest.array(), 6));
    assertEquals(10, s.credited.get(), "each byte credited once");
  }

  @Test
  void seededInterleavingsOfReadsAndCopiesKeepEveryByteInOrder() throws Exception {
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 200; round++) {
      Stream s = new Stream(new Conn());
      int total = 0;
      int next = 0;
      byte expected = 0;
      CompletableFuture<Integer> pending = null;
      ByteBuffer dst = null;
      while (next < 5_000 || total < next) {
        if (pending == null && random.nextBoolean()) {
          dst = ByteBuffer.allocate(1 + random.nextInt(300));
          pending = s.read(dst);
        }
        if (next < 5_000 && random.nextBoolean()) {
          int n = 1 + random.nextInt(200);
          ByteBuffer src = ByteBuffer.allocateDirect(n);
          for (int i = 0; i < n; i++) {
            src.put((byte) (next + i));
          }
          src.flip();
          s.deliver(src);
          src.clear();
          src.put(new byte[n]); // reused: a kept reference would show as zeros
          next += n;
        }
        if (pending != null && pending.isDone()) {
          int got = pending.get();
          for (int i = 0; i < got; i++) {
            assertEquals(expected++, dst.get(i), "seed " + seed + " round " + round + " byte " + (total + i)
                + "; replay: mvn -pl api test -Dtest=ReceiveCopyTest");
          }
          total += got;
          pending = null;
        }
        if (next >= 5_000 && pending == null) {
          dst = ByteBuffer.allocate(512);
          pending = s.read(dst);
        }
      }
      assertEquals(next, total);
      assertEquals(total, s.credited.get(), "seed " + seed + ": each byte credited once");
      assertFalse(pending != null && !pending.isDone() && s.buffered() > 0, "seed " + seed);
    }
  }

  /** A stream whose transport only counts the credit it is given back. */
  private static final class Stream extends AbstractMuxedStream {
    final AtomicLong credited = new AtomicLong();

    Stream(Conn c) {
      super(c, 1, true, false, null);
    }

    void deliver(ByteBuffer view) {
      receiveCopy(view);
    }

    int buffered() {
      return bufferedInboundBytes();
    }

    @Override
    protected CompletableFuture<Void> transmit(ByteBuffer data) {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    protected void transmitFin() {}

    @Override
    protected void transmitReset(long code) {}

    @Override
    protected void consumed(int bytes) {
      credited.addAndGet(bytes);
    }
  }

  private static final class Conn extends AbstractConnection {
    Conn() {
      super("test", true, URI.create("test://a:1"), URI.create("test://b:1"), Set.of(), TransportOptions.DEFAULTS);
    }

    @Override
    protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
      throw new UnsupportedOperationException();
    }

    @Override
    protected void doClose() {}

    @Override
    protected void doAbort(Throwable cause) {}
  }
}
