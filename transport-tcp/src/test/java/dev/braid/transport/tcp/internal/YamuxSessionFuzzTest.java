package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.Capability;
import dev.braid.TransportOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Arbitrary bytes into the decoder and session of one connection ({@link EmbeddedChannel}): whatever
 * arrives, no exception escapes the pipeline, the session either keeps the connection or ends it (with a
 * go-away when it blames the peer), and nothing is left half-done. The seeded loop below adds structured
 * inputs.
 *
 * <p>Every build replays the saved inputs ({@code YamuxSessionFuzzTestInputs/arbitraryBytes/}) in the normal
 * test run (where {@code @Timeout} bounds each), then fuzzes in the pom's {@code fuzz} Surefire execution
 * ({@code JAZZER_FUZZ=1}) up to {@code maxExecutions} inputs or {@code maxDuration}, whichever comes first;
 * {@code -Pfuzz} fuzzes 10 minutes. A finding fails the build and is saved to that directory.
 * {@code @Timeout} is also the per-input hang bound while fuzzing: Jazzer hands it to libFuzzer
 * ({@code -timeout}), and the fuzz execution turns JUnit's own timeouts off so that it does not bound the
 * whole run.
 */
class YamuxSessionFuzzTest {
  private static final TransportOptions OPTIONS = TransportOptions.builder()
      .keepAliveInterval(Duration.ZERO).maxStreams(64).maxPendingInboundStreams(16).build();

  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  @FuzzTest(maxExecutions = 200_000, maxDuration = "30s")
  void arbitraryBytes(byte[] input) {
    feed(input, input.length > 0 && (input[0] & 1) == 1);
  }

  @Test
  void structuredRandomFrames() {
    Random rnd = new Random(20261121);
    for (int round = 0; round < 3000; round++) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      int frames = 1 + rnd.nextInt(12);
      for (int i = 0; i < frames && b.remaining() > 64; i++) {
        int type = rnd.nextInt(10) == 0 ? rnd.nextInt(256) : rnd.nextInt(4);
        int flags = rnd.nextInt(8) == 0 ? rnd.nextInt(65536) : rnd.nextInt(16);
        long stream = rnd.nextInt(4) == 0 ? rnd.nextInt() & 0xFFFF_FFFFL : rnd.nextInt(8);
        int len = type == 0 ? rnd.nextInt(40) : rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(300_000);
        b.put((byte) (rnd.nextInt(20) == 0 ? 1 : 0)).put((byte) type).putShort((short) flags).putInt((int) stream)
            .putInt(len);
        if (type == 0) {
          b.put(new byte[Math.min(len, b.remaining())]);
        }
      }
      feed(java.util.Arrays.copyOf(b.array(), b.position()), rnd.nextBoolean());
    }
  }

  private static void feed(byte[] input, boolean dialer) {
    AtomicReference<TcpConnection> ready = new AtomicReference<>();
    YamuxSession session = new YamuxSession(dialer, false, OPTIONS, Set.of(Capability.RESET_CODES), ready::set,
        e -> { });
    EmbeddedChannel ch = new EmbeddedChannel(new YamuxFrameDecoder(YamuxSession.maxInboundDataLength(OPTIONS)), session);
    try {
      assertTrue(ready.get() != null, "the connection is announced when the channel is active");
      // Split the input at a point the input itself picks, to exercise partial frames.
      int cut = input.length == 0 ? 0 : (input[input.length - 1] & 0xFF) % (input.length + 1);
      ch.writeInbound(Unpooled.wrappedBuffer(input, 0, cut));
      if (ch.isOpen()) {
        ch.writeInbound(Unpooled.wrappedBuffer(input, cut, input.length - cut));
      }
      ch.runPendingTasks();
      ch.checkException(); // nothing reached the tail of the pipeline
      if (!ch.isOpen()) {
        assertTrue(!ready.get().isOpen(), "a closed channel ended the connection");
      }
    } finally {
      ch.finishAndReleaseAll();
      for (Object o; (o = ch.readOutbound()) != null; ) {
        ((ByteBuf) o).release();
      }
    }
  }
}
