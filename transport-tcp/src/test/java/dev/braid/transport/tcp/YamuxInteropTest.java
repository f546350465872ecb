package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Braid's TCP transport against an independent yamux: js-libp2p's {@code @chainsafe/libp2p-yamux} 8.0.1,
 * run by {@code src/test/node/yamux-peer.mjs} in a Node process this test starts (and kills), over a
 * plain loopback socket, in both roles. The peer reports what it saw as JSON lines; the test asserts on
 * them. Without Node or the npm packages the test fails with the install command.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class YamuxInteropTest {
  private static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();
  private static final String INSTALL = "npm ci --prefix transport-tcp/src/test/node";
  private static final long T = 60;

  /** Who dials. */
  enum Role {
    BRAID_DIALS,
    BRAID_LISTENS
  }

  /** What Braid does with streams the peer opens. */
  private enum Inbound {
    ECHO,
    SHA
  }

  private Process node;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();
  private final StringBuffer stderr = new StringBuffer();
  private Transport transport;
  private Listener listener;
  private Connection connection;
  private volatile Inbound inbound = Inbound.ECHO;

  @BeforeEach
  void requireNode() {
    Path nodeBin = findNode();
    if (nodeBin == null) {
      fail("Node.js is not installed (need node >= 20 on PATH or /usr/bin/node): apt-get install nodejs npm; then "
          + INSTALL);
    }
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules/@chainsafe/libp2p-yamux"))) {
      fail("the npm yamux peer is not installed in " + NODE_DIR + ": run `" + INSTALL + "` from the repository root");
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    if (connection != null) {
      connection.close();
    }
    if (listener != null) {
      listener.close();
    }
    if (transport != null) {
      transport.close();
    }
    if (node != null) {
      node.destroy();
      if (!node.waitFor(5, TimeUnit.SECONDS)) {
        node.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  // ---------------------------------------------------------------- tests

  @ParameterizedTest
  @EnumSource(Role.class)
  void manyConcurrentStreamsBothDirections(Role role) throws Exception {
    connect(role);
    int n = 200;
    List<CompletableFuture<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] payload = new byte[4096 + i];
      new Random(i).nextBytes(payload);
      results.add(connection.openStream().thenCompose(s -> CompletableFuture.supplyAsync(() -> {
        try {
          s.outputStream().write(("echo\n").getBytes(StandardCharsets.US_ASCII));
          s.outputStream().write(payload);
          s.closeWrite().get(T, TimeUnit.SECONDS);
          byte[] back = s.inputStream().readAllBytes();
          return java.util.Arrays.equals(payload, back) && s.terminated().get(T, TimeUnit.SECONDS) == StreamState.CLOSED;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      })));
    }
    int ok = 0;
    for (CompletableFuture<Boolean> r : results) {
      ok += r.get(T, TimeUnit.SECONDS) ? 1 : 0;
    }
    assertEquals(n, ok, "streams echoed intact by the npm yamux peer");
    // And 200 streams opened by the peer, echoed by Braid.
    command("open-echo " + n);
    String done = await(l -> l.contains("\"open-echo-done\""));
    assertEquals(Integer.toString(n), field(done, "ok"), done);
    assertNoInboundFailures();
    assertTrue(connection.isOpen());
  }

  /**
   * Braid writes, js-yamux checks every byte (issue 18: js-yamux drops data that arrives after a FIN without a
   * word, so a FIN that overtakes data is silent unless the reader counts and checks). One 128 MiB stream with 8
   * asynchronous writes in flight, then 600 streams of 1-3 windows one, two and eight at a time, half written
   * through the blocking view ending with a write that waits for credit and a small one, half through the
   * asynchronous core with writes in flight when closeWrite is called.
   */
  @ParameterizedTest
  @EnumSource(Role.class)
  void everyByteBraidWritesBeforeCloseWriteReachesThePeer(Role role) throws Exception {
    connect(role);
    int window = connection.options().receiveWindow();
    List<CompletableFuture<Void>> written = new ArrayList<>();
    written.add(CompletableFuture.runAsync(() -> writeChecked(0, 128 << 20, 8, false)));
    written.get(0).get(T, TimeUnit.SECONDS);
    Random r = new Random(18);
    int streams = 600;
    int[] sizes = new int[streams];
    for (int i = 1; i < streams; i++) {
      sizes[i] = window + r.nextInt(2 * window);
    }
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(1);
    for (int concurrency : new int[] {1, 2, 8}) {
      int end = Math.min(streams, next.get() + streams / 3);
      List<CompletableFuture<Void>> phase = new ArrayList<>();
      for (int w = 0; w < concurrency; w++) {
        phase.add(CompletableFuture.runAsync(() -> {
          for (int i; (i = next.getAndUpdate(k -> Math.min(k + 1, end))) < end; ) {
            writeChecked(i, sizes[i], i % 2 == 0 ? 0 : 2 + i % 7, i % 2 == 0);
          }
        }));
      }
      for (CompletableFuture<Void> f : phase) {
        f.get(120, TimeUnit.SECONDS);
      }
    }
    int checked = 0;
    long bytes = 0;
    while (checked < next.get()) {
      String done = await(l -> l.contains("\"check-done\""));
      assertEquals("true", field(done, "ok"), "the npm yamux peer found a stream short or out of place "
          + "(a FIN that overtook data: js-yamux drops what arrives after it): " + done);
      bytes += Long.parseLong(field(done, "bytes"));
      checked++;
    }
    System.out.println("yamux interop (" + role + "): " + checked + " streams, " + bytes
        + " bytes checked byte by byte by js-yamux");
    assertTrue(connection.isOpen());
  }

  /**
   * Writes {@code size} bytes of the peer's check pattern on a new stream, then closeWrite: blocking (ending with
   * a write larger than the window, then a small one), or with up to {@code inFlight} asynchronous writes.
   */
  private void writeChecked(int seed, int size, int inFlight, boolean blocking) {
    try {
      MuxedStream s = connection.openStream().get(T, TimeUnit.SECONDS);
      byte[] cmd = ("check " + size + " " + seed + "\n").getBytes(StandardCharsets.US_ASCII);
      byte[] data = checkPattern(seed, size);
      s.write(ByteBuffer.wrap(cmd)).get(T, TimeUnit.SECONDS);
      int window = connection.options().receiveWindow();
      if (blocking) {
        int small = Math.min(size, 1 + seed % 4000);
        int big = Math.min(size - small, window + seed % window);
        OutputStream out = s.outputStream();
        int off = 0;
        for (int head = size - small - big; off < head; ) {
          int n = Math.min(64 * 1024, head - off);
          out.write(data, off, n);
          off += n;
        }
        out.write(data, off, big);
        out.write(data, off + big, small);
        s.closeWrite().get(T, TimeUnit.SECONDS);
      } else {
        java.util.ArrayDeque<CompletableFuture<Void>> pending = new java.util.ArrayDeque<>();
        for (int off = 0; off < size; off += 64 * 1024) {
          if (pending.size() >= inFlight) {
            pending.poll().get(T, TimeUnit.SECONDS);
          }
          pending.add(s.write(ByteBuffer.wrap(data, off, Math.min(64 * 1024, size - off))));
        }
        CompletableFuture<Void> fin = s.closeWrite(); // while writes are still in flight
        for (CompletableFuture<Void> f : pending) {
          f.get(T, TimeUnit.SECONDS);
        }
        fin.get(T, TimeUnit.SECONDS);
      }
      assertEquals(StreamState.CLOSED, s.terminated().get(T, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new java.util.concurrent.CompletionException(e);
    }
  }

  /** The bytes of the peer's {@code check} pattern: LCG words, little-endian (yamux-peer.mjs, {@code pattern}). */
  static byte[] checkPattern(int seed, int size) {
    byte[] out = new byte[size];
    int x = seed;
    for (int i = 0; i < size; i += 4) {
      x = x * 1664525 + 1013904223;
      for (int k = 0; k < 4 && i + k < size; k++) {
        out[i + k] = (byte) (x >>> (8 * k));
      }
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void braidHalfClosesFirstAndStillReads(Role role) throws Exception {
    connect(role);
    MuxedStream s = connection.openStream().get(T, TimeUnit.SECONDS);
    s.outputStream().write("source-after-fin 300000\n".getBytes(StandardCharsets.US_ASCII));
    s.closeWrite().get(T, TimeUnit.SECONDS);
    assertEquals(StreamState.WRITE_CLOSED, s.state());
    String finSeen = await(l -> l.contains("\"fin-seen\""));
    assertEquals("0", field(finSeen, "received"), finSeen);
    byte[] got = readAllAsync(s).get(T, TimeUnit.SECONDS);
    String done = await(l -> l.contains("\"source-done\""));
    assertEquals(300000, got.length);
    assertEquals(field(done, "sha256"), sha256(got));
    assertEquals(StreamState.CLOSED, s.terminated().get(T, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void peerHalfClosesFirstAndStillReads(Role role) throws Exception {
    connect(role);
    MuxedStream s = connection.openStream().get(T, TimeUnit.SECONDS);
    s.outputStream().write("source 300000\n".getBytes(StandardCharsets.US_ASCII));
    byte[] got = readAllAsync(s).get(T, TimeUnit.SECONDS); // to the peer's FIN
    assertEquals(StreamState.READ_CLOSED, s.state());
    String sent = await(l -> l.contains("\"source-sent\""));
    assertEquals("true", field(sent, "readStillOpen"), sent);
    assertEquals(field(sent, "sha256"), sha256(got));
    byte[] more = new byte[50_000];
    new Random(3).nextBytes(more);
    Bounded.run("writer", () -> s.outputStream().write(more)).get(T, TimeUnit.SECONDS);
    s.closeWrite().get(T, TimeUnit.SECONDS);
    String done = await(l -> l.contains("\"source-done\""));
    assertEquals("50000", field(done, "received"), done);
    assertEquals(sha256(more), field(done, "receivedSha256"));
    assertEquals(StreamState.CLOSED, s.terminated().get(T, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void resetsBothWays(Role role) throws Exception {
    connect(role);
    // The peer resets: Braid's read fails with a remote reset (js-yamux sends no code: 0).
    MuxedStream a = connection.openStream().get(T, TimeUnit.SECONDS);
    a.outputStream().write("reset\n".getBytes(StandardCharsets.US_ASCII));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> a.read(ByteBuffer.allocate(16)).get(T, TimeUnit.SECONDS));
    StreamResetException r = assertInstanceOf(StreamResetException.class, e.getCause());
    assertTrue(r.isRemote());
    assertEquals(0, r.code());
    assertEquals(StreamState.RESET, a.terminated().get(T, TimeUnit.SECONDS));
    await(l -> l.contains("\"reset-sent\""));
    // Braid resets: the peer sees the reset.
    MuxedStream b = connection.openStream().get(T, TimeUnit.SECONDS);
    b.outputStream().write("wait-reset\n".getBytes(StandardCharsets.US_ASCII));
    String waiting = await(l -> l.contains("\"waiting-reset\""));
    b.reset(7);
    String seenReset = await(l -> l.contains("\"reset-seen\"") && field(l, "stream").equals(field(waiting, "stream")));
    assertEquals("reset", field(seenReset, "status"), seenReset);
    assertEquals(StreamState.RESET, b.state());
    assertTrue(connection.isOpen(), "a stream reset leaves the connection open");
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void sixtyFourMebibytesBothWaysCheckedBySha256(Role role) throws Exception {
    connect(role);
    int size = 64 * 1024 * 1024;
    // Braid -> peer.
    MuxedStream up = connection.openStream().get(T, TimeUnit.SECONDS);
    up.outputStream().write("sha\n".getBytes(StandardCharsets.US_ASCII));
    CompletableFuture<byte[]> answer = readAllAsync(up);
    String sent = Bounded.call("writer", () -> writeRandom(up, size, 11)).get(120, TimeUnit.SECONDS);
    up.closeWrite().get(T, TimeUnit.SECONDS);
    assertEquals(sent, new String(answer.get(120, TimeUnit.SECONDS), StandardCharsets.US_ASCII).trim());
    String upDone = await(l -> l.contains("\"sha-done\""));
    assertEquals(Integer.toString(size), field(upDone, "bytes"));
    // Peer -> Braid.
    MuxedStream down = connection.openStream().get(T, TimeUnit.SECONDS);
    down.outputStream().write(("source " + size + "\n").getBytes(StandardCharsets.US_ASCII));
    Received got = readSha256(down, 256 * 1024, false).get(120, TimeUnit.SECONDS);
    down.closeWrite().get(T, TimeUnit.SECONDS);
    String downDone = await(l -> l.contains("\"source-done\""));
    assertEquals(size, got.bytes());
    assertEquals(field(downDone, "sha256"), got.sha256());
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void windowLimitedTransfersBothWays(Role role) throws Exception {
    connect(role);
    int size = 4 * 1024 * 1024;
    // The peer reads slowly (pauses its stream, so it stops granting window): Braid's writer must wait.
    MuxedStream up = connection.openStream().get(T, TimeUnit.SECONDS);
    up.outputStream().write("slow-sha\n".getBytes(StandardCharsets.US_ASCII));
    CompletableFuture<byte[]> answer = readAllAsync(up);
    String sent = Bounded.call("writer", () -> writeRandom(up, size, 5)).get(T, TimeUnit.SECONDS);
    up.closeWrite().get(T, TimeUnit.SECONDS);
    assertEquals(sent, new String(answer.get(T, TimeUnit.SECONDS), StandardCharsets.US_ASCII).trim());
    String done = await(l -> l.contains("\"sha-done\""));
    assertTrue(Integer.parseInt(field(done, "pauses")) >= 2, "the peer paused reading: " + done);
    assertTrue(connection.isOpen(), "Braid stayed within the peer's window (js-yamux fails a connection that does not)");
    // Braid reads slowly: the peer must stay within the window Braid grants (or the session fails it).
    MuxedStream down = connection.openStream().get(T, TimeUnit.SECONDS);
    down.outputStream().write(("source " + size + "\n").getBytes(StandardCharsets.US_ASCII));
    Received got = readSha256(down, 32 * 1024, true).get(T, TimeUnit.SECONDS);
    down.closeWrite().get(T, TimeUnit.SECONDS);
    String downDone = await(l -> l.contains("\"source-done\""));
    assertEquals(size, got.bytes());
    assertEquals(field(downDone, "sha256"), got.sha256());
    assertTrue(connection.isOpen(), "the peer stayed within Braid's receive window");
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void peerOpenedLargeStreamAndGracefulGoAway(Role role) throws Exception {
    connect(role);
    inbound = Inbound.SHA;
    command("open-source 8388608");
    String done = await(l -> l.contains("\"open-source-done\""));
    assertEquals("true", field(done, "match"), done);
    assertNoInboundFailures();
    // The peer closes the muxer (go-away, normal): Braid's connection ends gracefully.
    command("close");
    await(l -> l.contains("\"closed-muxer\""));
    connection.closeFuture().get(T, TimeUnit.SECONDS); // completes normally: a graceful close by the peer
    assertFalse(connection.isOpen());
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void braidCloseIsSeenByThePeer(Role role) throws Exception {
    connect(role);
    MuxedStream s = connection.openStream().get(T, TimeUnit.SECONDS);
    s.outputStream().write("wait-reset\n".getBytes(StandardCharsets.US_ASCII));
    await(l -> l.contains("\"waiting-reset\""));
    connection.close();
    connection.closeFuture().get(T, TimeUnit.SECONDS);
    String closed = await(l -> l.contains("\"connection-closed\""));
    assertTrue(closed.contains("\"error\":null"), closed);
    assertEquals(StreamState.FAILED, s.terminated().get(T, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void thePeerAnswersBraidsKeepAlivePings(Role role) throws Exception {
    connect(role, TransportOptions.builder().keepAliveInterval(java.time.Duration.ofMillis(50)).build());
    dev.braid.transport.tcp.internal.TcpConnection tcp = (dev.braid.transport.tcp.internal.TcpConnection) connection;
    Bounded.until(30, () -> tcp.keepAliveAnswers() >= 5,
        () -> "js-yamux answered " + tcp.keepAliveAnswers() + " of Braid's pings");
    assertTrue(connection.isOpen());
    MuxedStream s = connection.openStream().get(T, TimeUnit.SECONDS);
    s.outputStream().write("echo\nping".getBytes(StandardCharsets.US_ASCII));
    s.closeWrite().get(T, TimeUnit.SECONDS);
    assertArrayEquals("ping".getBytes(StandardCharsets.US_ASCII), readAllAsync(s).get(T, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void thePeerProcessDyingMidTransferFailsEverything(Role role) throws Exception {
    connect(role);
    MuxedStream s = connection.openStream().get(T, TimeUnit.SECONDS);
    s.outputStream().write("sha\n".getBytes(StandardCharsets.US_ASCII));
    CompletableFuture<String> writer = Bounded.call("writer", () -> writeRandom(s, 1 << 30, 1)); // 1 GiB
    Bounded.until(T, () -> s.bytesWritten() >= 4 << 20 || writer.isDone(),
        () -> s.bytesWritten() + " bytes written; the writer " + writer);
    assertFalse(writer.isDone(), "the writer ended before the peer died: " + writer);
    assertTrue(node.destroyForcibly().waitFor(30, TimeUnit.SECONDS), "the peer process did not die");
    assertEquals(StreamState.FAILED, s.terminated().get(T, TimeUnit.SECONDS));
    // The writer blocked in the blocking view is released by the connection's failure, and by nothing else.
    Bounded.failsWith(dev.braid.ConnectionFailedException.class, writer, T, "the writer after the peer died");
    ExecutionException e = assertThrows(ExecutionException.class, () -> connection.closeFuture().get(T, TimeUnit.SECONDS));
    assertInstanceOf(dev.braid.ConnectionFailedException.class, e.getCause());
    assertFalse(connection.isOpen());
  }

  // ---------------------------------------------------------------- plumbing

  private void connect(Role role) throws Exception {
    connect(role, TransportOptions.DEFAULTS);
  }

  private void connect(Role role, TransportOptions options) throws Exception {
    transport = new TcpTransportProvider().create(options);
    if (role == Role.BRAID_DIALS) {
      startNode("listen");
      String listening = await(l -> l.contains("\"listening\""));
      connection = transport.dial(URI.create("tcp://127.0.0.1:" + field(listening, "port"))).get(T, TimeUnit.SECONDS);
    } else {
      listener = transport.listen(URI.create("tcp://127.0.0.1:0"));
      CompletableFuture<Connection> accepted = listener.accept();
      startNode("dial", Integer.toString(listener.address().getPort()));
      connection = accepted.get(T, TimeUnit.SECONDS);
    }
    await(l -> l.contains("\"connected\""));
    connection.setStreamHandler(s -> {
      Thread t = new Thread(() -> serveInbound(s), "interop-inbound-" + s.id());
      t.setDaemon(true);
      t.start();
    });
  }

  /** Failures of the inbound streams Braid served (the tests with peer-opened streams assert there were none). */
  private final java.util.Queue<Throwable> inboundFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();

  private void assertNoInboundFailures() {
    Throwable first = inboundFailures.peek();
    if (first != null) {
      throw new org.opentest4j.AssertionFailedError(inboundFailures.size() + " inbound stream(s) failed in Braid's "
          + inbound + " handler, the first: " + first, first);
    }
  }

  private void serveInbound(MuxedStream s) {
    try (InputStream in = s.inputStream(); OutputStream out = s.outputStream()) {
      if (inbound == Inbound.ECHO) {
        in.transferTo(out);
      } else {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        for (int k; (k = in.read(buf)) >= 0; ) {
          d.update(buf, 0, k);
        }
        out.write((HexFormat.of().formatHex(d.digest()) + "\n").getBytes(StandardCharsets.US_ASCII));
      }
    } catch (Exception e) { // kept for the test to assert on; the reset tells the peer at once
      inboundFailures.add(e);
      s.reset(1);
    }
  }

  private void command(String line) throws Exception {
    MuxedStream c = connection.openStream().get(T, TimeUnit.SECONDS);
    c.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII))).get(T, TimeUnit.SECONDS);
  }

  /** Reads {@code s} to its end on a thread of its own; the caller waits with a bound. */
  private static CompletableFuture<byte[]> readAllAsync(MuxedStream s) {
    return Bounded.call("read-all-" + s.id(), () -> s.inputStream().readAllBytes());
  }

  /** What {@link #readSha256} read: the byte count and the SHA-256 in hex. */
  private record Received(long bytes, String sha256) {}

  /**
   * Reads {@code s} to its end on a thread of its own, hashing; {@code slow}: pauses 20 ms every 512 KiB (a slow
   * reader, so that the peer has to wait for window). The caller waits with a bound.
   */
  private static CompletableFuture<Received> readSha256(MuxedStream s, int bufferSize, boolean slow) {
    return Bounded.call("read-sha-" + s.id(), () -> {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[bufferSize];
      InputStream in = s.inputStream();
      long n = 0;
      for (int k; (k = in.read(buf)) >= 0; ) {
        d.update(buf, 0, k);
        n += k;
        if (slow && n % (512 * 1024) < k) {
          Thread.sleep(20);
        }
      }
      return new Received(n, HexFormat.of().formatHex(d.digest()));
    });
  }

  private static String writeRandom(MuxedStream s, int size, long seed) throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    Random rnd = new Random(seed);
    byte[] chunk = new byte[256 * 1024];
    OutputStream out = s.outputStream();
    for (int left = size; left > 0; left -= chunk.length) {
      rnd.nextBytes(chunk);
      int n = Math.min(left, chunk.length);
      d.update(chunk, 0, n);
      out.write(chunk, 0, n);
    }
    return HexFormat.of().formatHex(d.digest());
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private void startNode(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(findNode().toString());
    cmd.add("yamux-peer.mjs");
    cmd.addAll(List.of(args));
    node = new ProcessBuilder(cmd).directory(NODE_DIR.toFile()).start();
    Thread out = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          lines.add(l);
        }
      } catch (IOException e) {
        lines.add("{\"event\":\"stdout-failed\"}");
      }
    }, "yamux-peer-stdout");
    out.setDaemon(true);
    out.start();
    Thread err = new Thread(() -> {
      try (InputStream in = node.getErrorStream()) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        stderr.append(b.toString(StandardCharsets.UTF_8));
      } catch (IOException e) {
        stderr.append("(stderr unreadable: ").append(e).append(')');
      }
    }, "yamux-peer-stderr");
    err.setDaemon(true);
    err.start();
  }

  /** The first reported line (seen before or arriving within the bound) that matches; fails on a peer error. */
  private String await(Predicate<String> p) throws InterruptedException {
    synchronized (seen) {
      for (String l : seen) {
        if (p.test(l)) {
          seen.remove(l);
          return l;
        }
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      String l = lines.poll(200, TimeUnit.MILLISECONDS);
      if (l == null) {
        if (node != null && !node.isAlive() && lines.isEmpty()) {
          fail("the yamux peer exited with " + node.exitValue() + "; saw " + seen + "; stderr: " + stderr);
        }
        continue;
      }
      if (l.contains("\"event\":\"error\"")) {
        fail("the yamux peer reported an error: " + l + "; stderr: " + stderr);
      }
      if (p.test(l)) {
        return l;
      }
      synchronized (seen) {
        seen.add(l);
      }
    }
    fail("the yamux peer did not report the expected event within 120 s; saw " + seen + "; stderr: " + stderr);
    return null;
  }

  private static String field(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(\"([^\"]*)\"|[^,}]*)").matcher(json);
    if (!m.find()) {
      fail("no field '" + key + "' in " + json);
    }
    return m.group(2) != null ? m.group(2) : m.group(1);
  }

  private static Path findNode() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        Path p = Path.of(dir, "node");
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    Path usr = Path.of("/usr/bin/node");
    return Files.isExecutable(usr) ? usr : null;
  }
}
