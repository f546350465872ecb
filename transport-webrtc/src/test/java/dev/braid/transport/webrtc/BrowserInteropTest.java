package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpServer;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.WriteClosedException;
import dev.braid.transport.webrtc.internal.WebRtcAddress;
import dev.braid.transport.webrtc.internal.WebRtcConnection;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Headless Chromium (Debian package {@code chromium}) as an independent WebRTC peer: it loads a page
 * served by this test, dials the Braid listener through the HTTP signaling endpoint (first without the
 * bearer token, which must be refused), and speaks the libp2p WebRTC framing written in the page's own
 * JavaScript. Scenarios, checked on both sides:
 * <ul>
 * <li>A: browser writes 40,000 bytes in records, half-closes; Braid echoes and half-closes (FIN and
 *     FIN_ACK both ways, then the channel closes).</li>
 * <li>B: browser resets with code 42: the Braid stream is RESET, remote, code 42.</li>
 * <li>C: Braid opens, writes and half-closes; the browser replies and half-closes; Braid's stream is CLOSED.</li>
 * <li>D: Braid resets its stream with code 7; the browser sees RESET_STREAM with errorCode 7.</li>
 * <li>E: browser sends STOP_SENDING: Braid's writes fail (stopped by peer) and Braid ends its side with FIN.</li>
 * </ul>
 * Runs in the test network namespace. Fails (never skips) when Chromium is missing.
 */
class BrowserInteropTest {
  private static final String TOKEN = "interop-" + Long.toHexString(System.nanoTime());
  private Process chromium;
  private Path profile;
  private HttpServer pageServer;
  private Transport transport;

  @AfterEach
  void tearDown() throws Exception {
    if (chromium != null) {
      List<ProcessHandle> family = new ArrayList<>(chromium.descendants().toList());
      family.forEach(ProcessHandle::destroyForcibly);
      chromium.destroyForcibly();
      chromium.waitFor(10, TimeUnit.SECONDS);
      for (ProcessHandle h : family) {
        h.onExit().get(10, TimeUnit.SECONDS);
      }
      assertFalse(chromium.isAlive(), "Chromium was killed");
    }
    if (pageServer != null) {
      pageServer.stop(0);
    }
    if (transport != null) {
      transport.close();
    }
    if (profile != null) {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static Path findChromium() {
    for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")) {
      if (Files.isExecutable(Path.of(c))) {
        return Path.of(c);
      }
    }
    return null;
  }

  @Test
  void chromiumSpeaksTheFramingBothWays() throws Exception {
    NetnsCheck.requireTestNamespace();
    Path browser = findChromium();
    if (browser == null) {
      fail("Chromium is not installed; the WebRTC interop test needs it: apt-get install -y chromium");
    }
    WebRtcTransportProvider provider = new WebRtcTransportProvider();
    assertTrue(provider.isAvailable(), () -> "webrtc unavailable: " + provider.unavailabilityCause());
    transport = provider.create(TransportOptions.builder()
        .property(WebRtcOptions.BEARER_TOKEN.name(), TOKEN)
        .property(WebRtcOptions.CORS_ALLOW_ORIGIN.name(), "*")
        // Short: Chromium does not speak Braid's keep-alive, so it must never be pinged.
        .keepAliveInterval(java.time.Duration.ofMillis(100))
        .build());
    Listener listener = transport.listen(provider.testListenAddress());
    String host = listener.address().getHost();

    CompletableFuture<String> result = new CompletableFuture<>();
    CompletableFuture<Void> dReceived = new CompletableFuture<>();
    List<String> browserLog = new ArrayList<>();
    pageServer = HttpServer.create(new InetSocketAddress(host, 0), 16);
    byte[] page;
    try (InputStream in = BrowserInteropTest.class.getResourceAsStream("/browser/interop.html")) {
      page = in.readAllBytes();
    }
    pageServer.createContext("/", ex -> {
      try (ex) {
        String path = ex.getRequestURI().getPath();
        byte[] body = ex.getRequestBody().readAllBytes();
        if (path.equals("/result")) {
          result.complete(new String(body, StandardCharsets.UTF_8));
          ex.sendResponseHeaders(204, -1);
        } else if (path.equals("/log")) {
          String line = new String(body, StandardCharsets.UTF_8);
          synchronized (browserLog) {
            browserLog.add(line);
          }
          if (line.equals("D-received")) {
            dReceived.complete(null);
          }
          ex.sendResponseHeaders(204, -1);
        } else if (path.equals("/interop.html")) {
          ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
          ex.sendResponseHeaders(200, page.length);
          ex.getResponseBody().write(page);
        } else {
          ex.sendResponseHeaders(404, -1);
        }
      }
    });
    pageServer.start();

    // The Braid side: accept the browser's connection, serve its streams, open two of our own.
    Map<String, Object> braid = new ConcurrentHashMap<>();
    CompletableFuture<Connection> accepted = listener.accept();
    String signaling = "http://" + WebRtcAddress.hostPort(host, listener.address().getPort()) + "/braid";
    String url = "http://" + WebRtcAddress.hostPort(host, pageServer.getAddress().getPort()) + "/interop.html?signaling="
        + URLEncoder.encode(signaling, StandardCharsets.UTF_8) + "&token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8);
    profile = Files.createTempDirectory("braid-chromium-");
    chromium = new ProcessBuilder(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--user-data-dir=" + profile, "--disable-features=WebRtcHideLocalIpsWithMdns", url)
        .redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile())
        .start();

    Connection c;
    try {
      c = accepted.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the browser never connected; page log " + browserLog + ", result "
          + result.getNow("none") + ", chromium log: " + chromiumLog(), e);
    }
    assertFalse(c.isDialer());
    List<CompletableFuture<Void>> served = new java.util.concurrent.CopyOnWriteArrayList<>();
    c.setStreamHandler(s -> served.add(CompletableFuture.runAsync(() -> serve(s, braid))));

    MuxedStream streamC = c.openStream().get(20, TimeUnit.SECONDS);
    streamC.write(ByteBuffer.wrap("C:from braid".getBytes(StandardCharsets.UTF_8))).get(20, TimeUnit.SECONDS);
    streamC.closeWrite().get(20, TimeUnit.SECONDS);
    MuxedStream streamD = c.openStream().get(20, TimeUnit.SECONDS);
    streamD.write(ByteBuffer.wrap("D:about to reset".getBytes(StandardCharsets.UTF_8))).get(20, TimeUnit.SECONDS);
    CompletableFuture<String> replyC = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(streamC.inputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    // Reset D once the browser has its data (it reports that through the page's log).
    dReceived.get(60, TimeUnit.SECONDS);
    streamD.reset(7);
    String text;
    try {
      text = result.get(90, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no result from the browser; page log " + browserLog + ", chromium log: " + chromiumLog(), e);
    }
    Map<String, String> r = new ConcurrentHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        r.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    assertEquals(null, r.get("error"), () -> "the browser failed: " + text + "\npage log " + browserLog);
    assertEquals(null, r.get("braidStreamError"), () -> "the browser failed on a Braid stream: " + text);

    // Signaling, as the browser saw it.
    assertEquals("401", r.get("withoutTokenStatus"), "an offer without the bearer token is refused");
    assertEquals("201", r.get("signalingStatus"));
    assertEquals("true", r.get("offerHasHostCandidate"), () -> "Chromium offered a plain host candidate (no mDNS): "
        + r.get("offerCandidates"));
    // A: echo with half-close both ways.
    assertEquals("true", r.get("A_finAck"), "browser got FIN_ACK for its FIN");
    assertEquals("true", r.get("A_echoOk"), () -> "browser got the echo, length " + r.get("A_echoLength"));
    assertEquals("true", r.get("A_channelClosed"), "the channel closed once FIN/FIN_ACK went both ways");
    // C: Braid-opened, half-closed both ways.
    assertEquals("C:from braid", r.get("C_received"));
    assertEquals("true", r.get("C_finAck"));
    assertEquals("true", r.get("C_channelClosed"));
    assertEquals("reply:C:from braid", replyC.get(20, TimeUnit.SECONDS));
    assertEquals(StreamState.CLOSED, streamC.terminated().get(20, TimeUnit.SECONDS));
    // D: Braid's reset reaches the browser with its code.
    assertEquals("7", r.get("D_resetCode"));
    assertEquals("D:about to reset", r.get("D_receivedBeforeReset"));
    assertEquals(StreamState.RESET, streamD.terminated().get(20, TimeUnit.SECONDS));
    // E: STOP_SENDING from the browser.
    assertEquals("true", r.get("E_finAfterStop"), "Braid ended its side with FIN after STOP_SENDING");
    assertEquals("true", r.get("E_finAck"));
    assertEquals("true", r.get("done"));

    for (CompletableFuture<Void> f : new ArrayList<>(served)) {
      f.get(30, TimeUnit.SECONDS);
    }
    // What Braid saw of the browser's streams.
    assertEquals(39998 + 2, braid.get("A.length"), "Braid read the browser's 40,000 bytes, then EOF");
    assertEquals(StreamState.CLOSED, braid.get("A.state"));
    StreamResetException reset = assertInstanceOf(StreamResetException.class, braid.get("B.error"));
    assertEquals(42, reset.code());
    assertTrue(reset.isRemote());
    assertEquals(StreamState.RESET, braid.get("B.state"));
    WriteClosedException stopped = assertInstanceOf(WriteClosedException.class, braid.get("E.writeError"));
    assertEquals(WriteClosedException.Reason.STOPPED_BY_PEER, stopped.reason());
    assertEquals(StreamState.CLOSED, braid.get("E.state"));
    assertNotNull(braid.get("E.read"));
    WebRtcConnection wc = (WebRtcConnection) c;
    assertTrue(!wc.peerSpeaksKeepAlive() && wc.pingsSent() == 0, "Chromium announced no keep-alive and was never pinged");
    c.close();
    c.closeFuture().handle((v, e) -> null).get(20, TimeUnit.SECONDS);
    listener.close();
  }

  private static void serve(MuxedStream s, Map<String, Object> seen) {
    try {
      ByteBuffer first = ByteBuffer.allocate(2);
      try {
        while (first.hasRemaining()) {
          if (s.read(first).get(30, TimeUnit.SECONDS) < 0) {
            throw new AssertionError("stream ended before its tag");
          }
        }
      } catch (ExecutionException e) {
        if (e.getCause() instanceof StreamResetException) {
          // the browser's reset overtook our read of its tag (a reset discards what was unread): only B is reset
          seen.put("B.error", e.getCause());
          seen.put("B.state", s.terminated().get(30, TimeUnit.SECONDS));
          return;
        }
        throw e;
      }
      String tag = new String(first.array(), StandardCharsets.UTF_8);
      switch (tag) {
        case "A:": {
          byte[] rest = s.inputStream().readAllBytes();
          String all = tag + new String(rest, StandardCharsets.UTF_8);
          seen.put("A.length", all.length());
          s.write(ByteBuffer.wrap(("echo:" + all).getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
          s.closeWrite().get(30, TimeUnit.SECONDS);
          seen.put("A.state", s.terminated().get(30, TimeUnit.SECONDS));
          break;
        }
        case "B:": {
          try {
            s.inputStream().readAllBytes();
            seen.put("B.error", "no error");
          } catch (IOException e) {
            seen.put("B.error", e);
          }
          seen.put("B.state", s.terminated().get(30, TimeUnit.SECONDS));
          break;
        }
        case "E:": {
          byte[] chunk = new byte[1000];
          try {
            for (int i = 0; i < 100_000; i++) {
              s.write(ByteBuffer.wrap(chunk)).get(30, TimeUnit.SECONDS);
              Thread.sleep(5);
            }
            seen.put("E.writeError", "never stopped");
          } catch (ExecutionException e) {
            seen.put("E.writeError", e.getCause());
          }
          seen.put("E.read", new String(s.inputStream().readAllBytes(), StandardCharsets.UTF_8));
          seen.put("E.state", s.terminated().get(30, TimeUnit.SECONDS));
          break;
        }
        default:
          throw new AssertionError("unexpected stream tag " + tag);
      }
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  private String chromiumLog() {
    try {
      String log = Files.readString(profile.resolve("chromium.log"));
      return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
