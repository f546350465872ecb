package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionTimedOutException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.TransportFixture;
import dev.braid.transport.webrtc.internal.WebRtcConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The WebRTC transport's own timers ({@code keepAliveInterval}, {@code idleTimeout}) and the test fixture's silent
 * kill: pings keep an idle Braid connection alive; without them it times out; a connection whose UDP path
 * {@link WebRtcFixture} cut is noticed by the survivor only through its idle timeout (and the filter's counters
 * show that the victim's goodbye was sent and dropped), while the same abort without the cut is noticed at once;
 * ICE consent expiry ends a connection with {@link ConnectionTimedOutException}; a peer that does not speak Braid's
 * keep-alive is never pinged, never timed out for its silence, and timed out once ICE stays DISCONNECTED.
 */
@Timeout(60)
class WebRtcLivenessTest {
  private static final TransportOptions FAST = TransportOptions.builder()
      .keepAliveInterval(Duration.ofMillis(500)).idleTimeout(Duration.ofSeconds(2)).build();

  @Test
  void keepAlivePingsKeepAnIdleBraidConnectionAlive() throws Exception {
    NetnsCheck.requireTestNamespace();
    TransportOptions o = TransportOptions.builder().keepAliveInterval(Duration.ofMillis(200))
        .idleTimeout(Duration.ofSeconds(1)).build();
    try (TransportFixture f = TransportFixture.of(new WebRtcTransportProvider(), o)) {
      ConnectionPair p = f.connect();
      Thread.sleep(3000); // three idle timeouts without a byte of application data
      assertTrue(p.dialer().isOpen() && p.listener().isOpen(), "pings keep an idle connection alive");
      WebRtcConnection d = (WebRtcConnection) p.dialer();
      WebRtcConnection l = (WebRtcConnection) p.listener();
      assertTrue(d.peerSpeaksKeepAlive() && l.peerSpeaksKeepAlive(), "two Braid peers announce the keep-alive");
      assertTrue(d.pingsSent() + l.pingsSent() > 0, "pings were sent");
      assertTrue(d.pongsReceived() + l.pongsReceived() > 0, "pings were answered");
      echo(p);
    }
  }

  @Test
  void withoutKeepAliveAnIdleConnectionTimesOut() throws Exception {
    NetnsCheck.requireTestNamespace();
    TransportOptions o = TransportOptions.builder().keepAliveInterval(Duration.ZERO)
        .idleTimeout(Duration.ofSeconds(1)).build();
    try (TransportFixture f = TransportFixture.of(new WebRtcTransportProvider(), o)) {
      ConnectionPair p = f.connect();
      long t0 = System.nanoTime();
      CompletableFuture.anyOf(p.dialer().closeFuture(), p.listener().closeFuture()).handle((v, e) -> null)
          .get(10, TimeUnit.SECONDS);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      Throwable d = endOf(p.dialer(), 10);
      Throwable l = endOf(p.listener(), 10);
      // The first end to time out tears its peer connection down, which the other end may hear before its own timer.
      assertTrue(d instanceof ConnectionTimedOutException || l instanceof ConnectionTimedOutException,
          () -> "an idle connection ends on its idle timeout: dialer " + d + ", listener " + l);
      System.err.println("[webrtc idle] an idle connection without keep-alive ended " + ms + " ms after it was up "
          + "(idle timeout 1 s)"); // a figure, not a bound: timers run late on a loaded machine
      assertEquals(0, ((WebRtcConnection) p.dialer()).pingsSent(), "keepAliveInterval 0 sends no pings");
    }
  }

  @Test
  void aSilentKillIsNoticedOnlyThroughTheIdleTimeout() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcFixture fixture = (WebRtcFixture) new WebRtcFixture().withOptions(FAST);
    String table;
    try {
      ConnectionPair p = fixture.connect();
      echo(p);
      Thread.sleep(600); // keep-alive traffic both ways before the kill
      long t0 = System.nanoTime();
      fixture.kill(p.dialer());
      assertFalse(p.dialer().isOpen(), "the killed end ends at once");
      endOf(p.dialer(), 10);
      Throwable cause = endOf(p.listener(), 30);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertInstanceOf(ConnectionTimedOutException.class, cause, () -> "the survivor learns of the kill only through its "
          + "own timers, but ended with " + cause);
      // When it ended is printed, not asserted (timers run late on a loaded machine): that the survivor heard nothing
      // is shown by its cause and by the filter's counters below.
      WebRtcFixture.Kill k = fixture.kills().get(0);
      Map<String, long[]> n = k.cut.counters();
      assertTrue(n.get(PathCut.VICTIM_TO_PEER)[0] > 0, () -> "the victim's goodbye (SCTP ABORT, DTLS close_notify) was "
          + "sent and dropped by the filter: " + counters(n));
      assertTrue(n.get(PathCut.PEER_TO_VICTIM)[0] > 0, () -> "the survivor's pings were dropped: " + counters(n));
      System.err.println("[webrtc kill] survivor ended " + ms + " ms after the kill with " + cause + "; dropped "
          + counters(n));
      table = k.cut.toString();
    } finally {
      fixture.close();
    }
    String ruleset = nftRuleset();
    assertFalse(ruleset.contains("braid_kill_"), () -> "the fixture removed its rules (" + table + "): " + ruleset);
  }

  @Test
  void theSameAbortWithoutTheCutIsNoticedAtOnce() throws Exception {
    NetnsCheck.requireTestNamespace();
    try (TransportFixture f = TransportFixture.of(new WebRtcTransportProvider(), FAST)) {
      ConnectionPair p = f.connect();
      echo(p);
      long t0 = System.nanoTime();
      p.dialer().abort(new java.io.IOException("a polite abort, for comparison"));
      Throwable cause = endOf(p.listener(), 10);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertFalse(cause instanceof ConnectionTimedOutException, "an abort on an intact path is heard: " + cause);
      System.err.println("[webrtc abort without a cut] the peer ended " + ms + " ms after the abort with "
          + (cause == null ? "a graceful close (ConnectionClosedException)" : cause));
    }
  }

  @Test
  void aPeerWithoutBraidsKeepAliveIsNeitherPingedNorTimedOut() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider provider = new WebRtcTransportProvider();
    TransportOptions o = TransportOptions.builder().keepAliveInterval(Duration.ofMillis(100))
        .idleTimeout(Duration.ofSeconds(1)).build();
    try (Transport t = provider.create(o); RawPeer raw = new RawPeer()) {
      Listener l = t.listen(provider.testListenAddress());
      CompletableFuture<Connection> accepted = l.accept();
      raw.connect(l.address(), null);
      WebRtcConnection c = (WebRtcConnection) accepted.get(20, TimeUnit.SECONDS);
      Thread.sleep(2500); // silent for longer than idleTimeout: only ICE speaks
      assertFalse(c.peerSpeaksKeepAlive(), "webrtc-java used directly announces no keep-alive");
      assertTrue(c.isOpen(), "a silent peer that does not speak Braid's keep-alive is not timed out while ICE holds");
      assertEquals(0, c.pingsSent(), "a peer without Braid's keep-alive is never pinged");
      assertEquals(0, raw.controlMessages(), "nothing arrived on the raw peer's control channel");
      c.close();
      endOf(c, 10);
      l.close();
    }
  }

  @Test
  void iceConsentExpiryEndsAConnectionWithConnectionTimedOut() throws Exception {
    NetnsCheck.requireTestNamespace();
    // No pings and an idle timeout far away: only libwebrtc's ICE consent can tell the survivor.
    TransportOptions o = TransportOptions.builder().keepAliveInterval(Duration.ZERO)
        .idleTimeout(Duration.ofSeconds(300)).build();
    WebRtcFixture fixture = (WebRtcFixture) new WebRtcFixture().withOptions(o);
    try {
      ConnectionPair p = fixture.connect();
      long t0 = System.nanoTime();
      fixture.kill(p.dialer());
      Throwable cause = endOf(p.listener(), 50);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertInstanceOf(ConnectionTimedOutException.class, cause, () -> "ICE consent expiry is a timeout: " + cause);
      assertTrue(cause.getMessage().contains("ICE consent expired"), cause::getMessage);
      System.err.println("[webrtc ICE consent] the survivor ended " + ms + " ms after the kill with " + cause);
    } finally {
      fixture.close();
    }
  }

  @Test
  void aPeerWithoutBraidsKeepAliveTimesOutWhenIceStaysDisconnected() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider provider = new WebRtcTransportProvider();
    TransportOptions o = TransportOptions.builder().keepAliveInterval(Duration.ofMillis(100))
        .idleTimeout(Duration.ofSeconds(2)).build();
    try (PathCut filter = new PathCut(); Transport t = provider.create(o); RawPeer raw = new RawPeer()) {
      Listener l = t.listen(provider.testListenAddress());
      CompletableFuture<Connection> accepted = l.accept();
      raw.connect(l.address(), null);
      WebRtcConnection c = (WebRtcConnection) accepted.get(20, TimeUnit.SECONDS);
      WebRtcFixture.Path path = WebRtcFixture.selectedPath(c);
      long t0 = System.nanoTime();
      filter.cut(path.remotePort(), path.localPort(), java.util.Set.of()); // the raw peer vanishes
      Throwable cause = endOf(c, 50);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertInstanceOf(ConnectionTimedOutException.class, cause, () -> "a vanished non-Braid peer times out: " + cause);
      assertTrue(ms >= 2000, "not before idleTimeout, took " + ms + " ms");
      assertEquals(0, c.pingsSent(), "never pinged");
      System.err.println("[webrtc non-Braid peer cut] the Braid side ended " + ms + " ms after the cut with " + cause);
      l.close();
    }
  }

  private static void echo(ConnectionPair p) throws Exception {
    MuxedStream s = p.dialer().openStream().get(20, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {42})).get(20, TimeUnit.SECONDS);
    MuxedStream r = p.listener().acceptStream().get(20, TimeUnit.SECONDS);
    ByteBuffer b = ByteBuffer.allocate(1);
    r.read(b).get(20, TimeUnit.SECONDS);
    assertEquals(42, b.get(0));
  }

  /** Waits for {@code c} to end; returns its cause (null after a graceful close). */
  private static Throwable endOf(Connection c, int seconds) throws Exception {
    try {
      c.closeFuture().get(seconds, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }
  }

  private static String counters(Map<String, long[]> n) {
    StringBuilder b = new StringBuilder();
    n.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(v[0]).append(" packets/")
        .append(v[1]).append(" bytes"));
    return b.toString();
  }

  private static String nftRuleset() throws Exception {
    Process p = new ProcessBuilder(PathCut.nft(), "list", "ruleset").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
  }
}
