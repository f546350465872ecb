package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.eventually;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readExactly;
import static dev.braid.conformance.Kit.readToEnd;
import static dev.braid.conformance.Kit.writeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.conformance.Kit.Digest;
import dev.braid.conformance.Kit.StreamPair;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The data rules, section "D: data" of {@code SPEC.md} (D1-D4): small messages echo intact, 64 MiB cross
 * complete and in order, concurrent writes on one stream are never interleaved, and 1,000 concurrent streams each
 * carry their own bytes.
 */
interface DataRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("D1 small messages echo intact, in order, both ways")
  default void D1_smallMessagesEcho(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    for (int i = 0; i < 200; i++) {
      byte[] msg = bytes(1 + (i * 37) % 1500, 100 + i);
      writeAll(s.local(), msg);
      byte[] got = readExactly(s.remote(), msg.length);
      writeAll(s.remote(), got);
      assertArrayEquals(msg, readExactly(s.local(), msg.length), "echo " + i);
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("D2 64 MiB cross complete and in order, checked by SHA-256")
  default void D2_largeTransferChecksum(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    long size = 64L << 20;
    CompletableFuture<Digest> got = CompletableFuture.supplyAsync(() -> Kit.readDigest(s.remote()), pool());
    Digest sent = Kit.writeRandom(s.local(), size, 31);
    await(s.local().closeWrite(), "closeWrite");
    sent.assertSame(await(got, "reading 64 MiB"), "64 MiB transfer");
    assertEquals(size, s.local().bytesWritten());
    assertEquals(size, s.remote().bytesRead());
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("D3 concurrent writes on one stream are never interleaved")
  default void D3_concurrentWritesNotInterleaved(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    int threads = 4;
    int per = 64;
    int size = 4096;
    CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> readToEnd(s.remote(), threads * per * size), pool());
    List<CompletableFuture<Void>> ws = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      ws.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < per; i++) {
          byte[] b = new byte[size];
          Arrays.fill(b, (byte) (thread * per + i));
          writeAll(s.local(), b);
        }
      }, pool()));
    }
    for (CompletableFuture<Void> w : ws) {
      await(w, "writer");
    }
    await(s.local().closeWrite(), "closeWrite");
    byte[] all = await(got, "reader");
    assertEquals(threads * per * size, all.length);
    Set<Byte> seen = new HashSet<>();
    for (int off = 0; off < all.length; off += size) {
      for (int i = 1; i < size; i++) {
        assertEquals(all[off], all[off + i], "write at offset " + off + " was interleaved with another");
      }
      assertTrue(seen.add(all[off]), "each write arrives exactly once");
    }
  }

  @ParameterizedTest(name = "{0} opens first")
  @EnumSource(Side.class)
  @DisplayName("D4 1,000 concurrent streams on one connection, opened from both ends, each carry their own bytes")
  default void D4_thousandConcurrentStreams(Side side) throws Exception {
    int n = 1000;
    AtomicReference<Throwable> echoFailure = new AtomicReference<>();
    for (Connection c : List.of(pair().dialer(), pair().listener())) {
      c.setStreamHandler(st -> Kit.readAllAsync(st, 1 << 16)
          .thenCompose(in -> st.write(ByteBuffer.wrap(in)))
          .thenCompose(v -> st.closeWrite())
          .whenComplete((v, t) -> {
            if (t != null) {
              echoFailure.compareAndSet(null, t);
            }
          }));
    }
    // Half from each end (protocols such as WebRTC's SCTP split stream ids between the ends), all at once.
    List<CompletableFuture<MuxedStream>> opens = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      opens.add((i % 2 == 0 ? pair().opener(side) : pair().acceptor(side)).openStream());
    }
    List<MuxedStream> streams = new ArrayList<>();
    for (CompletableFuture<MuxedStream> o : opens) {
      streams.add(await(o, "opening 1,000 streams"));
    }
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream st = streams.get(i);
      byte[] msg = ("stream-" + i + "-").repeat(1 + i % 7).getBytes(StandardCharsets.US_ASCII);
      done.add(st.write(ByteBuffer.wrap(msg)).thenCompose(v -> st.closeWrite())
          .thenCompose(v -> Kit.readAllAsync(st, msg.length))
          .thenAccept(echo -> assertArrayEquals(msg, echo, "echo on stream " + st)));
    }
    try {
      CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0]))
          .get(Kit.waitLimit().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      List<String> open = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (!done.get(i).isDone()) {
          open.add(streams.get(i) + " " + streams.get(i).state() + ", opened by the "
              + (i % 2 == 0 ? side : "other end") + ", echoed by the other");
        }
      }
      throw new AssertionError("timed out after " + Kit.waitLimit().toSeconds() + " s waiting for 1,000 echoes: "
          + open.size() + " never ended, the first " + open.subList(0, Math.min(5, open.size())), e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("an echo failed", e.getCause());
    }
    if (echoFailure.get() != null) {
      throw new AssertionError("echo side failed", echoFailure.get());
    }
    for (Connection c : List.of(pair().dialer(), pair().listener())) {
      eventually(() -> c.streams().isEmpty(), "all 1,000 CLOSED streams leave " + c + "'s list (left: "
          + c.streams().size() + ")");
    }
  }
}
