package dev.braid.transport.quic.internal;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.packet.QuicPacket;

/**
 * kwik's {@link tech.kwik.core.log.Logger} used as an event hook. kwik has no callback for "data arrived",
 * "RESET_STREAM arrived (with this code)" or "these bytes left the send buffer", but it hands every parsed
 * packet to its logger right before processing it ({@code PacketParser}), and every packet it sends right
 * after sending it ({@code SenderImpl}). This tap turns those calls into {@link StreamSignals} updates and pump
 * pokes through the owning {@link QuicConnection}'s {@link FrameRouter}. It never throws into kwik, and it blocks in
 * one case only: a client's first Initial packet from the server waits, microseconds, until agent15 is ready for the
 * ServerHello in it ({@link Kwik0108.HelloGate}).
 *
 * <p>A client connection has its own logger, so its tap is bound to one connection. A server connector shares
 * one logger among all its connections; kwik processes each server connection's packets on a thread named
 * {@code receiver-<odcid>} and sends them from {@code sender-<odcid>}, so the tap finds the connection from the
 * thread's name ({@link #bindServerConnection} registers it on the receiver thread when the handshake ends).
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
final class QuicFrameTap extends NullLogger {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.kwik");

  private final Map<String, QuicConnection> byConnectionId = new ConcurrentHashMap<>();
  private final ThreadLocal<QuicConnection> current = new ThreadLocal<>();
  /** Streams seen on a server receiver thread before its connection finished the handshake (Kwik0108 section 10). */
  private final ThreadLocal<Map<Integer, StreamSignals>> early = new ThreadLocal<>();
  private volatile QuicConnection bound;
  /** A client's hold on the server's first Initial until agent15 waits for it (Kwik0108 section 15). */
  private volatile Kwik0108.HelloGate helloGate;

  /** A client connection's tap. */
  static QuicFrameTap forClient() {
    return new QuicFrameTap();
  }

  /** A server connector's tap, shared by its connections. */
  static QuicFrameTap forServer() {
    return new QuicFrameTap();
  }

  void bind(QuicConnection connection) {
    this.bound = connection;
  }

  /** A client's tap: holds the server's first handshake packet until agent15 is ready for it (Kwik0108 section 15). */
  void gate(Kwik0108.HelloGate gate) {
    this.helloGate = gate;
  }

  /**
   * Called on kwik's per-connection receiver thread when a server connection completes its handshake.
   * Returns false when the thread does not carry the expected name (a kwik version that changed it).
   */
  boolean bindServerConnection(QuicConnection connection) {
    String key = connectionKey(Thread.currentThread().getName());
    if (key == null) {
      return false;
    }
    byConnectionId.put(key, connection);
    current.set(connection);
    Map<Integer, StreamSignals> earlyStreams = early.get();
    early.remove();
    if (earlyStreams != null && !earlyStreams.isEmpty()) {
      connection.recoverEarlyStreams(earlyStreams);
    }
    connection.onTerminatedRun(() -> byConnectionId.remove(key, connection));
    return true;
  }

  private static String connectionKey(String threadName) {
    if (threadName.startsWith("receiver-") && !threadName.equals("receiver-loop")) {
      return threadName.substring("receiver-".length());
    }
    if (threadName.startsWith("sender-")) {
      return threadName.substring("sender-".length());
    }
    return null;
  }

  private QuicConnection resolve() {
    QuicConnection c = bound;
    if (c != null) {
      return c;
    }
    c = current.get();
    if (c != null) {
      return c;
    }
    String key = connectionKey(Thread.currentThread().getName());
    if (key == null) {
      return null;
    }
    c = byConnectionId.get(key);
    if (c != null) {
      current.set(c);
    }
    return c;
  }

  @Override
  public void received(Instant timeReceived, int datagram, QuicPacket packet) {
    if (packet == null) {
      return;
    }
    try {
      Kwik0108.HelloGate gate = helloGate;
      if (gate != null) {
        gate.hold(packet);
        if (gate.passed()) {
          helloGate = null;
        }
      }
      QuicConnection c = resolve();
      if (c != null) {
        c.onPacketReceived(packet);
      } else if (connectionKey(Thread.currentThread().getName()) != null) {
        // A server connection that has not finished its handshake: kwik may still process 1-RTT STREAM frames
        // (when the client's Finished was lost or reordered), before its new-stream callback is installed.
        for (QuicFrame f : packet.getFrames()) {
          if (f instanceof StreamFrame sf) {
            Map<Integer, StreamSignals> pending = early.get();
            if (pending == null) {
              pending = new HashMap<>();
              early.set(pending);
            }
            if (pending.size() < 1024 || pending.containsKey(sf.getStreamId())) {
              StreamSignals sig = pending.computeIfAbsent(sf.getStreamId(), StreamSignals::new);
              sig.rxHighestUpTo = Math.max(sig.rxHighestUpTo, sf.getUpToOffset());
              if (sf.isFinal()) {
                sig.rxFinalSize = sf.getUpToOffset();
              }
            }
          }
        }
      }
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.WARNING, "Braid's QUIC receive hook failed; the packet is processed by kwik anyway", e);
    }
  }

  @Override
  public void sent(Instant sent, QuicPacket packet) {
    if (packet == null) {
      return;
    }
    try {
      QuicConnection c = resolve();
      if (c != null) {
        c.onPacketSent(packet);
      }
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.WARNING, "Braid's QUIC send hook failed", e);
    }
  }

  @Override
  public void sent(Instant sent, List<QuicPacket> packets) {
    for (QuicPacket p : packets) {
      sent(sent, p);
    }
  }

  @Override
  public void warn(String message) {
    LOG.log(System.Logger.Level.DEBUG, "kwik: {0}", message);
  }

  @Override
  public void error(String message) {
    LOG.log(System.Logger.Level.DEBUG, "kwik error: {0}", message);
  }

  @Override
  public void error(String message, Throwable error) {
    // kwik reports its own fatal faults this way (e.g. "Sender thread aborted with exception"): make them visible
    LOG.log(System.Logger.Level.WARNING, "kwik error: " + message, error);
    // kwik's abortConnection logs this and stops the connection without telling its ConnectionListener (Kwik0108
    // section 9; on the connection's sender or receiver thread)
    if (Kwik0108.isAbortLog(message)) {
      try {
        QuicConnection c = resolve();
        if (c != null) {
          c.onKwikAborted(error);
        }
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "Braid could not end a QUIC connection kwik aborted", e);
      }
    }
  }
}
