package dev.braid.transport.webrtc;

import dev.braid.Connection;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.ForwardingFixture;
import dev.braid.conformance.TransportFixture;
import dev.braid.transport.webrtc.internal.WebRtcConnection;
import dev.onvoid.webrtc.RTCStats;
import dev.onvoid.webrtc.RTCStatsReport;
import dev.onvoid.webrtc.RTCStatsType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The conformance kit's fixture for the WebRTC transport: {@link TransportFixture#of} over
 * {@link WebRtcTransportProvider}, plus a silent {@link #kill(Connection)}.
 *
 * <p><b>The kill.</b> Both peers run in this JVM inside the test network namespace, each peer connection on its own
 * UDP port of the namespace's address (its one ICE host candidate). {@code kill(c)} reads the selected ICE candidate
 * pair of {@code c} from libwebrtc's stats (and checks that the peer's stats name the same pair), cuts that path
 * with an nftables filter ({@link PathCut}: every UDP packet between the two ports, both directions, and anything
 * else to or from {@code c}'s ports is dropped on arrival), and only then aborts {@code c}: its SCTP ABORT, DTLS
 * close_notify and everything else it sends on the way out are dropped, and no signaling message exists after the
 * handshake. The survivor learns of it only through its own timers and ends with
 * {@link dev.braid.ConnectionTimedOutException}. A kill whose filter cannot be set fails (never a polite abort).
 * Each cut is removed once both ends have ended (before the next kill, at the latest when the fixture closes), after
 * its drop counters are printed with the survivor's time to end.
 *
 * <p><b>Thread safety.</b> Not thread-safe, like every kit fixture.
 */
final class WebRtcFixture extends ForwardingFixture {
  private final Map<Connection, Connection> peerOf = new ConcurrentHashMap<>();
  private final List<Kill> kills = new ArrayList<>();
  private PathCut filter;

  /** One kill: its cut and what the survivor did. */
  static final class Kill {
    final Connection victim;
    final Connection survivor;
    final PathCut.Cut cut;
    final long killedAt;
    volatile long survivorEndedAt;
    volatile Throwable survivorCause;
    private boolean reported;

    Kill(Connection victim, Connection survivor, PathCut.Cut cut, long killedAt) {
      this.victim = victim;
      this.survivor = survivor;
      this.cut = cut;
      this.killedAt = killedAt;
    }

    /** Milliseconds from the kill to the survivor's end, or -1 while it lives. */
    long survivorMillis() {
      long t = survivorEndedAt;
      return t == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(t - killedAt);
    }

    boolean bothEnded() {
      return victim.closeFuture().isDone() && survivor.closeFuture().isDone() && survivorEndedAt != 0;
    }
  }

  WebRtcFixture() {
    this(TransportFixture.of(new WebRtcTransportProvider()));
  }

  private WebRtcFixture(TransportFixture delegate) {
    super(delegate);
  }

  @Override
  protected TransportFixture rewrap(TransportFixture rebuilt) {
    return new WebRtcFixture(rebuilt);
  }

  @Override
  public ConnectionPair connect() throws Exception {
    ConnectionPair p = delegate().connect();
    peerOf.put(p.dialer(), p.listener());
    peerOf.put(p.listener(), p.dialer());
    return p;
  }

  /** This fixture itself: every connection it makes can be killed silently (no special routing is needed). */
  @Override
  public TransportFixture killable() {
    return this;
  }

  /**
   * Cuts {@code c}'s UDP path in both directions, then aborts {@code c} (whose goodbye is dropped).
   *
   * @throws IllegalStateException when the path cannot be found or the filter cannot be set; {@code c} is then left
   *     untouched
   */
  @Override
  public void kill(Connection c) {
    NetnsCheck.requireTestNamespace();
    if (!(c instanceof WebRtcConnection victim)) {
      throw new IllegalArgumentException("not a WebRTC connection: " + c);
    }
    Connection survivor = peerOf.get(c);
    if (survivor == null) {
      throw new IllegalArgumentException("kill() needs a connection made by this fixture: " + c);
    }
    reapEndedKills();
    Path path = selectedPath(victim);
    if (survivor instanceof WebRtcConnection peer) {
      Path seen = selectedPath(peer);
      if (seen.localPort != path.remotePort || seen.remotePort != path.localPort) {
        throw new IllegalStateException("the two ends of " + c + " disagree about their ICE path: " + path + " vs "
            + seen);
      }
    }
    if (filter == null) {
      filter = new PathCut();
    }
    PathCut.Cut cut = filter.cut(path.localPort, path.remotePort, path.localPorts);
    Kill k = new Kill(c, survivor, cut, System.nanoTime());
    kills.add(k);
    survivor.closeFuture().whenComplete((v, e) -> {
      k.survivorCause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
      k.survivorEndedAt = System.nanoTime();
    });
    c.abort(new IOException("killed without a word by the WebRTC test fixture (its UDP path is cut: " + cut + ")"));
  }

  /** The kills so far (for tests of the fixture itself). */
  List<Kill> kills() {
    return List.copyOf(kills);
  }

  @Override
  public void close() throws Exception {
    try {
      delegate().close();
    } finally {
      for (Kill k : kills) {
        report(k);
      }
      if (filter != null) {
        filter.close();
      }
    }
  }

  /** Removes the cuts whose two ends have ended: their ports may be reused by later connections. */
  private void reapEndedKills() {
    for (Kill k : kills) {
      if (!k.cut.removed() && k.bothEnded()) {
        report(k);
      }
    }
  }

  /** Prints what the cut dropped and how the survivor ended, and removes the cut. */
  private static void report(Kill k) {
    if (k.reported) {
      return;
    }
    k.reported = true;
    try {
      k.cut.remove();
    } finally {
      Map<String, long[]> n = k.cut.counters();
      StringBuilder drops = new StringBuilder();
      for (Map.Entry<String, long[]> e : n.entrySet()) {
        drops.append(drops.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue()[0])
            .append(" packets/").append(e.getValue()[1]).append(" bytes");
      }
      Throwable cause = k.survivorCause;
      System.err.println("[webrtc kill] " + k.victim + " killed, path " + k.cut + "; the survivor " + k.survivor
          + (k.survivorEndedAt == 0 ? " had not ended when the cut was removed"
          : " ended " + k.survivorMillis() + " ms after the kill with " + (cause == null ? "no error (closed)" : cause))
          + "; dropped by the filter: " + drops);
    }
  }

  /** The selected ICE candidate pair of one end, and every local candidate port it has. */
  record Path(int localPort, int remotePort, Set<Integer> localPorts) {}

  static Path selectedPath(WebRtcConnection c) {
    RTCStatsReport report;
    try {
      report = c.stats().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the ICE stats of " + c + " (needed to cut its path): " + e, e);
    }
    Map<String, RTCStats> stats = report.getStats();
    RTCStats pair = null;
    for (RTCStats s : stats.values()) {
      if (s.getType() == RTCStatsType.TRANSPORT) {
        Object id = s.getAttributes().get("selectedCandidatePairId");
        if (id != null && stats.get(id.toString()) != null) {
          pair = stats.get(id.toString());
        }
      }
    }
    if (pair == null) {
      for (RTCStats s : stats.values()) {
        if (s.getType() == RTCStatsType.CANDIDATE_PAIR && Boolean.TRUE.equals(s.getAttributes().get("nominated"))
            && "succeeded".equals(String.valueOf(s.getAttributes().get("state")))) {
          pair = s;
        }
      }
    }
    if (pair == null) {
      throw new IllegalStateException("no selected ICE candidate pair in the stats of " + c + ": " + report);
    }
    int local = port(stats, pair.getAttributes().get("localCandidateId"), c, report);
    int remote = port(stats, pair.getAttributes().get("remoteCandidateId"), c, report);
    Set<Integer> locals = new TreeSet<>();
    for (RTCStats s : stats.values()) {
      if (s.getType() == RTCStatsType.LOCAL_CANDIDATE && s.getAttributes().get("port") instanceof Number p) {
        locals.add(p.intValue());
      }
    }
    locals.add(local);
    return new Path(local, remote, locals);
  }

  private static int port(Map<String, RTCStats> stats, Object candidateId, WebRtcConnection c, RTCStatsReport report) {
    RTCStats candidate = candidateId == null ? null : stats.get(candidateId.toString());
    Object port = candidate == null ? null : candidate.getAttributes().get("port");
    if (!(port instanceof Number n) || n.intValue() <= 0) {
      throw new IllegalStateException("no port for ICE candidate " + candidateId + " in the stats of " + c + ": "
          + report);
    }
    String protocol = String.valueOf(candidate.getAttributes().get("protocol"));
    if (!"udp".equalsIgnoreCase(protocol)) {
      throw new IllegalStateException("the selected ICE candidate " + candidateId + " of " + c + " is not UDP ("
          + protocol + "); the fixture only cuts UDP paths");
    }
    return n.intValue();
  }
}
