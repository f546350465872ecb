package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.awaitState;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readToEnd;
import static dev.braid.conformance.Kit.writeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.WriteClosedException;
import dev.braid.conformance.Kit.Recorder;
import dev.braid.conformance.Kit.StreamPair;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The event and error rules, section "E: events and errors" of {@code SPEC.md} (E1-E3): events racing close
 * or reset are harmless, a listener that throws harms nothing else, and the blocking views behave like the
 * asynchronous core.
 */
interface EventRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("E1 events racing close or reset (a drain after the stream stopped being writable) never throw or hang")
  default void E1_eventsRacingCloseAreHarmless(Side side) throws Exception {
    for (int round = 0; round < 10; round++) {
      StreamPair s = open(pair(), side);
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        writes.add(s.local().write(ByteBuffer.wrap(bytes(window() / 2, i))));
      }
      int r = round;
      CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        for (int i = 0; i < 20; i++) {
          buf.clear();
          try {
            if (s.remote().read(buf).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS) < 0) {
              return;
            }
          } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof StreamResetException) {
              return; // the reset this round makes: the one outcome expected besides data and EOF
            }
            throw new AssertionError("E1 round " + r + ": a read racing the reset failed with " + e.getCause()
                + ", not with the reset (StreamResetException)", e.getCause());
          } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("E1 round " + r + ": a read racing the reset neither returned data, EOF nor "
                + "the reset within " + Kit.waitLimit().toSeconds() + " s: check that a reset wakes pending reads");
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("E1: interrupted", e);
          }
        }
      }, pool());
      if (round % 3 == 0) {
        s.local().reset(round);
      } else if (round % 3 == 1) {
        s.remote().reset(round);
      } else {
        s.local().close();
        s.remote().reset(round);
      }
      for (CompletableFuture<Void> w : writes) {
        Throwable failed = await(w.handle((v, e) -> e), "a write racing the reset completes one way or the other");
        if (failed != null) {
          Throwable cause = failed instanceof java.util.concurrent.CompletionException && failed.getCause() != null
              ? failed.getCause() : failed;
          assertInstanceOf(StreamResetException.class, cause, "E1 round " + round + ": a write racing the reset "
              + "either completes or fails with the reset");
        }
      }
      await(drain, "the reader");
      await(s.local().terminated(), "terminated");
      await(s.remote().terminated(), "terminated");
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("E2 a listener that throws harms neither the stream nor the other listeners")
  default void E2_throwingListenerIsIsolated(Side side) throws Exception {
    Recorder good = new Recorder();
    StreamPair s = open(pair(), side);
    s.local().addListener((st, from, to) -> {
      throw new IllegalStateException("listener failure injected by the conformance kit");
    });
    s.local().addListener(good);
    await(s.local().closeWrite(), "closeWrite");
    readToEnd(s.remote(), 0);
    writeAll(s.remote(), bytes(10, 1));
    await(s.remote().closeWrite(), "peer closeWrite");
    assertEquals(10, readToEnd(s.local(), 10).length);
    await(s.local().terminated(), "terminated");
    good.assertChain(StreamState.OPEN, StreamState.CLOSED, "the well-behaved listener");
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("E3 the blocking views behave like the asynchronous core: EOF is -1, failures are the same exceptions")
  default void E3_blockingViews(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    byte[] data = bytes(5 * window(), 51);
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      try (OutputStream out = s.local().outputStream()) {
        out.write(data);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }, pool());
    InputStream in = s.remote().inputStream();
    assertArrayEquals(data, Kit.blocking(pool(), in::readAllBytes, "E3: readAllBytes on the blocking view until the "
        + "writer's closeWrite (a lost FIN hangs here)"), "E3: the blocking view reads every byte written, in order");
    int after = Kit.blocking(pool(), () -> in.read(), "E3: read after EOF");
    assertEquals(-1, after, "E3: EOF is sticky on the blocking view");
    await(writer, "blocking writer");
    assertThrows(WriteClosedException.class, () -> Kit.blocking(pool(), () -> {
      s.local().outputStream().write(1);
      return null;
    }, "E3: a blocking write after closeWrite"));
    s.remote().reset(8);
    awaitState(s.local(), StreamState.RESET);
    assertThrows(StreamResetException.class, () -> Kit.blocking(pool(), () -> s.local().inputStream().read(),
        "E3: a blocking read after the peer's reset"));
  }
}
