package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.eventually;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.KitHarness.available;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.conformance.Kit.StreamPair;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The backpressure rule, section "B: backpressure" of {@code SPEC.md} (B1): a reader that stops holds the
 * writer back, and the bytes buffered for it stay bounded.
 */
interface BackpressureRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("B1 backpressure is real: a reader that stops holds the writer back, memory stays bounded")
  default void B1_slowReaderHoldsWriterBack(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    slowReaderHoldsWriterBack(s.local(), s.remote()); // the stream's acceptor reads
    StreamPair t = open(pair(), side);
    slowReaderHoldsWriterBack(t.remote(), t.local()); // its opener reads: both ends of a stream must hold back
  }

  private void slowReaderHoldsWriterBack(dev.braid.MuxedStream writer, dev.braid.MuxedStream reader) throws Exception {
    StreamPair s = new StreamPair(writer, reader);
    long bound = backpressureBound();
    CompletableFuture<Void> held = holdWriter(s.local());
    byte[] chunk = bytes(64 * 1024, 42);
    int window = window();
    eventually(() -> available(s.remote()) >= Math.min(window, bound), "B1: a window's worth of bytes reaches the "
        + "reader that does not read (it has " + available(s.remote()) + ")");
    int buffered = s.remote().inputStream().available();
    assertTrue(buffered <= bound, "the reader buffers " + buffered + " bytes, over the bound " + bound);
    // The reader resumes: everything arrives, the held write completes. (Read to the end rather than to a count
    // taken now: the held write may complete at any moment once it is held.)
    CompletableFuture<Long> reading = CompletableFuture.supplyAsync(() -> {
      long total = 0;
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      while (true) {
        buf.clear();
        int n = await(s.remote().read(buf), "reading");
        if (n < 0) {
          break;
        }
        for (int i = 0; i < n; i++) {
          if (buf.get(i) != chunk[(int) ((total + i) % chunk.length)]) {
            throw new AssertionError("corrupted byte at " + (total + i));
          }
        }
        total += n;
      }
      return total;
    }, pool());
    await(held, "the held write, once the reader resumed");
    await(s.local().closeWrite(), "closeWrite after the held write");
    assertEquals(s.local().bytesWritten(), (long) await(reading, "reading everything"));
  }
}
