package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.awaitState;
import static dev.braid.conformance.Kit.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.TransportOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Hostile conditions, the same for every transport (rules F1–F6 of {@code SPEC.md}): a reset storm, a
 * connection killed mid-transfer, a reader that stops, an open flood beyond the stream limit, a graceful
 * close under load, and a faulty path. A transport's {@code *FaultTest} extends this and supplies the
 * same fixture as its conformance test; {@link #faultyPath()} says what kind of path the fault proxy can
 * sit on. Each rule prints what it measured.
 */
@org.junit.jupiter.api.Tag("slow")
public abstract class FaultSuite extends KitHarness {
  /** Runs the fault rules; see {@link KitHarness} for the checks around each. */
  protected FaultSuite() {}

  /**
   * The kind of path a {@link FaultProxy} can be put on between dialer and listener (UDP for QUIC, TCP for
   * TCP), or {@code null} when the transport's traffic cannot be routed through a loopback proxy (WebRTC:
   * ICE picks its own path); rule F6 is then skipped with that reason.
   */
  protected FaultProxy.Kind faultyPath() {
    return null;
  }

  private static void report(String line) {
    System.getLogger(FaultSuite.class.getName()).log(System.Logger.Level.INFO, line);
    System.out.println("[fault] " + line);
  }

  // ------------------------------------------------------------------ F1

  @Test
  @DisplayName("F1 reset storm: 1,000 streams (opened from both ends) with data flowing, half reset mid-transfer, the rest intact")
  void F1_resetStorm() throws Exception {
    ConnectionPair p = pair();
    int n = 1000;
    int size = 32 * 1024;
    Map<Integer, byte[]> digests = new ConcurrentHashMap<>();
    AtomicInteger acceptorResets = new AtomicInteger();
    p.listener().setStreamHandler(st -> consume(st, digests, acceptorResets));
    p.dialer().setStreamHandler(st -> consume(st, digests, acceptorResets));
    List<MuxedStream> streams = new ArrayList<>();
    List<CompletableFuture<MuxedStream>> opens = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      opens.add((i % 2 == 0 ? p.dialer() : p.listener()).openStream()); // half from each end
    }
    for (CompletableFuture<MuxedStream> o : opens) {
      streams.add(await(o, "open 1,000 streams"));
    }
    Map<Integer, byte[]> sent = new ConcurrentHashMap<>();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream s = streams.get(i);
      int kind = (i / 2) % 4; // 0,1: graceful; 2: the opener resets; 3: the acceptor resets
      byte[] data = Kit.bytes(size, i);
      data[0] = (byte) (kind == 3 ? 'A' : 'G');
      data[1] = (byte) (i >> 8);
      data[2] = (byte) i;
      if (kind < 2) {
        sent.put(i, MessageDigest.getInstance("SHA-256").digest(data));
      }
      CompletableFuture<Void> w = s.write(ByteBuffer.wrap(data, 0, size / 2))
          .thenCompose(v -> {
            if (kind == 2) {
              s.reset(1);
              return CompletableFuture.completedFuture(null);
            }
            return s.write(ByteBuffer.wrap(data, size / 2, size - size / 2)).thenCompose(x -> s.closeWrite());
          });
      writes.add(w.handle((v, e) -> null));
    }
    for (CompletableFuture<Void> w : writes) {
      await(w, "writes in the storm complete or fail");
    }
    int reset = 0;
    int closed = 0;
    for (int i = 0; i < n; i++) {
      StreamState st = await(streams.get(i).state().isTerminal() ? CompletableFuture.completedFuture(streams.get(i).state())
          : terminalOrReadClosed(streams.get(i)), "stream " + i + " ends");
      if (st == StreamState.RESET) {
        reset++;
      } else {
        closed++;
      }
    }
    eventually(() -> digests.size() == n / 2, "the listener read every graceful stream to its end (" + digests.size() + ")");
    for (Map.Entry<Integer, byte[]> e : sent.entrySet()) {
      assertTrue(MessageDigest.isEqual(e.getValue(), digests.get(e.getKey())), "stream " + e.getKey() + " arrived intact");
    }
    assertEquals(n / 2, reset, "dialer-reset plus listener-reset streams end RESET");
    for (MuxedStream s : streams) {
      s.close();
    }
    eventually(() -> p.dialer().streams().isEmpty(), "every stream leaves the dialer's list");
    eventually(() -> p.listener().streams().isEmpty(), "every stream leaves the listener's list");
    report(fixture().transportId() + " F1: 1000 streams, " + reset + " reset (" + acceptorResets + " by the accepting end), "
        + closed + " graceful with SHA-256 verified");
  }

  private static CompletableFuture<StreamState> terminalOrReadClosed(MuxedStream s) {
    CompletableFuture<StreamState> f = new CompletableFuture<>();
    s.addListener((st, from, to) -> {
      if (to.isTerminal() || to == StreamState.READ_CLOSED) {
        f.complete(to);
      }
    });
    StreamState now = s.state();
    if (now.isTerminal() || now == StreamState.READ_CLOSED) {
      f.complete(now);
    }
    return f;
  }

  /** The listener side of F1: digest graceful streams, reset 'A' streams after their first bytes. */
  private static void consume(MuxedStream st, Map<Integer, byte[]> digests, AtomicInteger resets) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ByteBuffer buf = ByteBuffer.allocate(8192);
    int[] header = {-1, 0, 0}; // kind, stream index, header bytes seen (a read may return fewer than 3)
    readLoop(st, buf, md, header, digests, resets);
  }

  private static void readLoop(MuxedStream st, ByteBuffer buf, MessageDigest md, int[] header,
      Map<Integer, byte[]> digests, AtomicInteger resets) {
    buf.clear();
    st.read(buf).whenComplete((n, t) -> {
      if (t != null) {
        return; // reset by the dialer: expected for a quarter of the streams
      }
      if (n < 0) {
        digests.put(header[1], md.digest());
        st.close();
        return;
      }
      boolean headerDone = header[2] == 3;
      for (int i = 0; i < n && header[2] < 3; i++, header[2]++) {
        if (header[2] == 0) {
          header[0] = buf.get(i);
        } else {
          header[1] = (header[1] << 8) | (buf.get(i) & 0xff);
        }
      }
      if (!headerDone && header[2] == 3 && header[0] == 'A') { // once, when the header is complete
        st.reset(2);
        resets.incrementAndGet();
        return;
      }
      md.update(buf.array(), 0, n);
      readLoop(st, buf, md, header, digests, resets);
    });
  }

  // ------------------------------------------------------------------ F2

  @Test
  @DisplayName("F2 a connection killed mid-transfer: every stream ends within a bound, blocked writers are released")
  void F2_killedMidTransfer() throws Exception {
    ConnectionPair p = killablePair();
    int n = 8;
    List<Kit.StreamPair> streams = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      streams.add(Kit.open(p, Side.DIALER));
    }
    List<CompletableFuture<Throwable>> writers = new ArrayList<>();
    for (Kit.StreamPair s : streams) {
      writers.add(CompletableFuture.supplyAsync(() -> {
        byte[] chunk = Kit.bytes(64 * 1024, 7);
        try (OutputStream out = s.local().outputStream()) {
          for (int i = 0; i < 4096; i++) {
            out.write(chunk); // 256 MiB: far more than will cross before the kill
          }
          return null;
        } catch (IOException e) {
          return e;
        }
      }, pool));
    }
    // The listener reads a little, so that the transfer is really under way, then stops.
    await(streams.get(0).remote().read(ByteBuffer.allocate(4096)), "transfer under way");
    long t0 = System.nanoTime();
    killSilently(p.dialer());
    for (Kit.StreamPair s : streams) {
      assertEquals(StreamState.FAILED, await(s.local().terminated(), "dialer stream ends"));
      assertEquals(StreamState.FAILED, await(s.remote().terminated(), "listener stream ends"));
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    for (CompletableFuture<Throwable> w : writers) {
      Throwable t = await(w, "a blocked writer is released");
      assertInstanceOf(ConnectionFailedException.class, t, "the writer fails with the connection's cause");
    }
    await(p.dialer().closeFuture().handle((v, e) -> null), "dialer close future");
    assertSurvivorTimedOut(p.listener());
    report(fixture().transportId() + " F2: killed without a word with 8 x 256 MiB in flight; all 16 stream ends "
        + "terminal within " + ms + " ms (the survivor's idle timeout is " + KILL_OPTIONS.idleTimeout().toMillis()
        + " ms); 8 blocked writers released with ConnectionFailedException");
  }

  // ------------------------------------------------------------------ F3

  @Test
  @DisplayName("F3 a peer that stops reading: writers are held, memory stays bounded, a reset frees everything")
  void F3_stoppedReaderBoundsMemory() throws Exception {
    ConnectionPair p = pair();
    int n = 16;
    long before = usedHeap();
    List<Kit.StreamPair> streams = new ArrayList<>();
    List<CompletableFuture<Void>> held = new ArrayList<>();
    long accepted = 0;
    long perStreamBound = backpressureBound();
    for (int i = 0; i < n; i++) {
      Kit.StreamPair s = Kit.open(p, Side.DIALER);
      streams.add(s);
      held.add(Kit.holdWriter(s.local(), perStreamBound));
      accepted += s.local().bytesWritten();
    }
    long during = usedHeap();
    long growth = Math.max(0, during - before);
    long bound = n * perStreamBound;
    assertTrue(growth <= bound, "heap grew by " + growth + " bytes with " + n + " stopped readers (bound " + bound + ")");
    for (Kit.StreamPair s : streams) {
      s.remote().reset(5);
    }
    for (CompletableFuture<Void> h : held) {
      assertInstanceOf(StreamResetException.class, Kit.awaitFailure(h, "a held write fails on reset"));
    }
    eventually(() -> p.dialer().streams().isEmpty() && p.listener().streams().isEmpty(), "reset streams leave both lists");
    long after = usedHeap();
    report(String.format("%s F3: %d stopped readers held %d bytes accepted (%.1f KiB/stream); heap +%.1f MiB while held,"
            + " %+.1f MiB after the resets", fixture().transportId(), n, accepted, accepted / 1024.0 / n, growth / 1048576.0,
        (after - before) / 1048576.0));
  }

  private static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  // ------------------------------------------------------------------ F4

  @Test
  @DisplayName("F4 an open flood beyond the stream limit is refused and counted; the connection stays usable")
  void F4_openFloodRefused() throws Exception {
    TransportFixture limited = fixture().withOptions(TransportOptions.builder().maxStreams(64)
        .maxPendingInboundStreams(64).build());
    Assumptions.assumeTrue(limited != null, "the fixture cannot be rebuilt with other options (override withOptions)");
    ConnectionPair p = pairOn(limited);
    List<MuxedStream> accepted = new ArrayList<>();
    p.listener().setStreamHandler(st -> {
      synchronized (accepted) {
        accepted.add(st);
      }
    });
    List<CompletableFuture<MuxedStream>> flood = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      flood.add(p.dialer().openStream());
    }
    int ok = 0;
    int refused = 0;
    List<MuxedStream> opened = new ArrayList<>();
    for (CompletableFuture<MuxedStream> f : flood) {
      try {
        opened.add(f.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS));
        ok++;
      } catch (java.util.concurrent.ExecutionException e) {
        assertInstanceOf(StreamRefusedException.class, e.getCause(), "an open beyond the limit is refused");
        refused++;
      }
    }
    assertTrue(ok <= 64, ok + " streams open at once with maxStreams=64");
    assertEquals(1000, ok + refused);
    assertTrue(p.dialer().isOpen() && p.listener().isOpen(), "the flood did not break the connection");
    for (MuxedStream s : opened) {
      s.reset(0);
    }
    eventually(() -> p.dialer().streams().isEmpty() && p.listener().streams().isEmpty(),
        "the flood's streams are gone from both ends");
    Kit.StreamPair after = Kit.open(new ConnectionPair(p.dialer(), p.listener()) , Side.LISTENER);
    Kit.writeAll(after.local(), new byte[] {42});
    assertEquals(42, Kit.readExactly(after.remote(), 1)[0]);
    report(fixture().transportId() + " F4: 1000 opens with maxStreams=64: " + ok + " opened, " + refused
        + " refused; the connection stayed usable");
  }

  // ------------------------------------------------------------------ F5

  @Test
  @DisplayName("F5 graceful close under load: every byte written before close() arrives, checked by SHA-256")
  void F5_gracefulCloseUnderLoad() throws Exception {
    ConnectionPair p = pair();
    int n = 32;
    long size = 4L << 20;
    List<String> received = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Throwable> readFailure = new AtomicReference<>();
    p.listener().setStreamHandler(st -> pool.execute(() -> {
      try {
        received.add(hex(Kit.readDigest(st)));
      } catch (Throwable t) {
        readFailure.compareAndSet(null, t);
      }
    }));
    List<String> sent = java.util.Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream s = await(p.dialer().openStream(), "open");
      int seed = i;
      writers.add(CompletableFuture.runAsync(() -> {
        MessageDigest md = Kit.sha256();
        Random r = new Random(seed);
        List<CompletableFuture<Void>> ws = new ArrayList<>();
        for (long left = size; left > 0; left -= 256 * 1024) {
          byte[] b = new byte[(int) Math.min(256 * 1024, left)];
          r.nextBytes(b);
          md.update(b);
          ws.add(s.write(ByteBuffer.wrap(b)));
        }
        s.close(); // at once, without waiting for the writes: they must still all arrive
        sent.add(hex(new Kit.Digest(md.digest(), size)));
        for (CompletableFuture<Void> w : ws) {
          await(w, "a write made before close()");
        }
      }, pool));
    }
    for (CompletableFuture<Void> w : writers) {
      await(w, "writers");
    }
    eventually(() -> received.size() == n || readFailure.get() != null, "all " + n + " streams read to their end");
    if (readFailure.get() != null) {
      throw new AssertionError("a reader failed", readFailure.get());
    }
    List<String> a = new ArrayList<>(sent);
    List<String> b = new ArrayList<>(received);
    java.util.Collections.sort(a);
    java.util.Collections.sort(b);
    assertEquals(a, b, "the SHA-256 and length of every stream's bytes, as sent and as received");
    report(fixture().transportId() + " F5: " + n + " streams x " + (size >> 20) + " MiB closed right after writing: "
        + "all " + (n * size >> 20) + " MiB arrived, SHA-256 verified");
  }

  private static String hex(Kit.Digest d) {
    StringBuilder sb = new StringBuilder(Long.toString(d.length())).append(':');
    for (byte x : d.sha256()) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ F6

  @Test
  @DisplayName("F6 a faulty path: over loss, delay and reordering (UDP) data still arrives intact; an abrupt cut (TCP) ends every stream")
  void F6_faultyPath() throws Exception {
    FaultProxy.Kind kind = faultyPath();
    Assumptions.assumeTrue(kind != null, "transport '" + fixture().transportId()
        + "' declares no path a loopback proxy can sit on (faultyPath() returns null: WebRTC's ICE picks its own "
        + "path, an in-memory transport has none)");
    AtomicReference<FaultProxy> proxy = new AtomicReference<>();
    TransportFixture routed = fixture().withDialRoute(address -> {
      try {
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", address.getPort());
        FaultProxy fp = kind == FaultProxy.Kind.UDP ? FaultProxy.udp(target, 0.02, 5, 1234) : FaultProxy.tcp(target);
        proxy.set(fp);
        return fp.rewrite(address);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    Assumptions.assumeTrue(routed != null, "the fixture cannot route its dialer (override withDialRoute)");
    try {
      ConnectionPair p = pairOn(routed);
      Kit.StreamPair s = Kit.open(p, Side.DIALER);
      if (kind == FaultProxy.Kind.UDP) {
        CompletableFuture<Kit.Digest> got = CompletableFuture.supplyAsync(() -> Kit.readDigest(s.remote()), pool);
        Kit.Digest sent = Kit.writeRandom(s.local(), 8L << 20, 66);
        await(s.local().closeWrite(), "closeWrite over a lossy path");
        sent.assertSame(await(got, "8 MiB over a lossy path"), "8 MiB over 2% loss, 0-5 ms jitter");
        for (int i = 0; i < 50; i++) {
          byte[] msg = Kit.bytes(100, i);
          Kit.writeAll(s.remote(), msg);
          assertEquals(100, Kit.readExactly(s.local(), 100).length);
        }
        report(fixture().transportId() + " F6: 8 MiB + 50 echoes over a UDP path with 2% loss and 0-5 ms jitter: intact; "
            + proxy.get().dropped() + " of " + (proxy.get().dropped() + proxy.get().forwarded()) + " datagrams dropped");
      } else {
        // The writer writes until a write fails; each write is bounded, so a writer left hanging fails the rule.
        CompletableFuture<Throwable> writing = CompletableFuture.supplyAsync(() -> {
          byte[] chunk = Kit.bytes(64 * 1024, 3);
          for (long sent = 0; sent < 1L << 30; sent += chunk.length) {
            CompletableFuture<Void> w = s.local().write(ByteBuffer.wrap(chunk));
            try {
              w.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
              return e.getCause();
            } catch (java.util.concurrent.TimeoutException e) {
              throw new AssertionError("F6: a write neither completed nor failed within " + Kit.waitLimit().toSeconds()
                  + " s after the path was cut: the writer is left hanging");
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new AssertionError("F6: interrupted", e);
            }
          }
          return null;
        }, pool);
        await(s.remote().read(ByteBuffer.allocate(1024)), "transfer under way");
        proxy.get().cutAll();
        assertEquals(StreamState.FAILED, await(s.local().terminated(), "dialer stream ends after the cut"));
        assertEquals(StreamState.FAILED, await(s.remote().terminated(), "listener stream ends after the cut"));
        Throwable released = await(writing, "the writer is released");
        assertInstanceOf(ConnectionFailedException.class, released, "F6: the writer is released by the cut with "
            + "ConnectionFailedException (null: 1 GiB went out although the path was cut)");
        report(fixture().transportId() + " F6: TCP path cut with RST mid-transfer: both ends FAILED, writer released");
      }
    } finally {
      if (proxy.get() != null) {
        proxy.get().close();
      }
    }
  }

  /** Unused: keeps {@link URI} and {@link Connection} in the imports for readers of the rule texts. */
  static URI unused(Connection c) {
    return c.remoteAddress();
  }

  static void awaitReset(MuxedStream s) {
    awaitState(s, StreamState.RESET);
  }
}
