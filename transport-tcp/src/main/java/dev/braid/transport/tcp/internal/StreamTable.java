package dev.braid.transport.tcp.internal;

import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_ACK;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_RST;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_SYN;
import static dev.braid.transport.tcp.internal.YamuxFrame.INITIAL_WINDOW;
import static dev.braid.transport.tcp.internal.YamuxFrame.MAX_UINT32;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_WINDOW_UPDATE;

import dev.braid.ProtocolException;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The streams a yamux session knows: id allocation (odd for the dialer, even for the listener), the
 * validation of the peer's ids, accepting or refusing the peer's opens, and the table itself. A stream is
 * in the table from its SYN until it is gone on the wire (see {@link YamuxSession#forget}); frames for a
 * stream that was in it are ignored afterwards.
 *
 * <p><b>Thread safety.</b> Event loop only.
 */
final class StreamTable {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  /** How many of the peer's ended stream ids are remembered to detect a reused id. */
  private static final int RECENTLY_CLOSED = 1024;

  private final boolean dialer;
  private final TransportOptions options;
  private final long receiveWindow;
  private final WindowTuner tuner;
  private final SessionIo io;

  private final Map<Long, TcpMuxedStream> streams = new HashMap<>();
  /** Ids of the peer's streams that ended here lately, to tell a reused id from a late SYN (bounded). */
  private final LinkedHashSet<Long> recentlyClosedRemote = new LinkedHashSet<>();
  private long nextLocalId;
  private long highestRemoteId;
  private boolean loggedStreamLimit;
  private boolean loggedBacklogFull;

  StreamTable(boolean dialer, TransportOptions options, WindowTuner tuner, SessionIo io) {
    this.dialer = dialer;
    this.options = options;
    this.receiveWindow = tuner.baseWindow();
    this.tuner = tuner;
    this.io = io;
    this.nextLocalId = dialer ? 1 : 2;
  }

  TcpMuxedStream get(long id) {
    return streams.get(id);
  }

  boolean isEmpty() {
    return streams.isEmpty();
  }

  /** Whether every stream has sent its FIN after its last byte (a graceful close may send go-away). */
  boolean allFlushed() {
    for (TcpMuxedStream s : streams.values()) {
      if (!s.wire().flushed()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Opens a stream of ours: allocates its id, registers it with the connection and sends its SYN. Throws
   * {@link StreamRefusedException} when the ids are exhausted or the connection's stream limit is reached.
   */
  TcpMuxedStream openLocal(YamuxSession session, StreamStateListener listener) throws StreamRefusedException {
    TcpConnection connection = io.connection();
    if (nextLocalId > MAX_UINT32) {
      throw new StreamRefusedException("yamux stream ids are exhausted on " + connection);
    }
    long id = nextLocalId;
    nextLocalId += 2;
    TcpMuxedStream s = new TcpMuxedStream(connection, session, id, true, tuner, listener);
    if (!connection.spiAddStream(s)) {
      throw new StreamRefusedException("stream limit reached (maxStreams=" + options.maxStreams() + ") on "
          + connection);
    }
    streams.put(id, s);
    io.writeControl(TYPE_WINDOW_UPDATE, FLAG_SYN, id, receiveWindow - INITIAL_WINDOW);
    io.flushIfNeeded();
    return s;
  }

  /**
   * The peer opened stream {@code id} (SYN): checks the id, then registers the stream and acknowledges it, or
   * refuses it with RST (code REFUSED) when {@code closing} or at the stream limit (then returns null).
   */
  TcpMuxedStream acceptRemote(YamuxSession session, long id, boolean closing) throws ProtocolException {
    if (isLocalParity(id)) {
      throw new ProtocolException("yamux: the peer opened stream " + id + " with the wrong parity (the "
          + (dialer ? "listener uses even ids" : "dialer uses odd ids") + ")");
    }
    if (streams.containsKey(id) || recentlyClosedRemote.contains(id)) {
      throw new ProtocolException("yamux: the peer reused stream id " + id);
    }
    // Ids need not arrive in order (go-yamux allocates under a lock but sends the SYN after it).
    highestRemoteId = Math.max(highestRemoteId, id);
    if (closing) {
      io.writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, id, StreamResetException.REFUSED);
      return null;
    }
    TcpConnection connection = io.connection();
    TcpMuxedStream s = new TcpMuxedStream(connection, session, id, false, tuner, null);
    if (!connection.spiAddStream(s)) {
      if (!loggedStreamLimit) {
        loggedStreamLimit = true;
        LOG.log(System.Logger.Level.WARNING, "{0}: refusing inbound streams with RST: stream limit reached "
            + "(maxStreams={1}); logged once per connection", connection, options.maxStreams());
      }
      io.writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, id, StreamResetException.REFUSED);
      return null;
    }
    streams.put(id, s);
    io.writeControl(TYPE_WINDOW_UPDATE, FLAG_ACK, id, receiveWindow - INITIAL_WINDOW);
    return s;
  }

  /** Hands an accepted stream to the application; refuses it (RST, code REFUSED) when the backlog is full. */
  void offerInbound(TcpMuxedStream s) {
    TcpConnection connection = io.connection();
    if (connection.spiDeliverInbound(s)) {
      return;
    }
    if (!loggedBacklogFull) {
      loggedBacklogFull = true;
      LOG.log(System.Logger.Level.WARNING, "{0}: refusing inbound streams with RST: the accept backlog is full "
          + "(maxPendingInboundStreams={1}); logged once per connection", connection,
          options.maxPendingInboundStreams());
    }
    s.spiRefuse("refused stream " + s.id() + ": the accept backlog is full (maxPendingInboundStreams="
        + options.maxPendingInboundStreams() + ")");
  }

  /** Whether {@code id} was ever a stream of this session (a frame for it after it ended is ignored). */
  boolean wasUsed(long id) {
    return isLocalParity(id) ? id < nextLocalId : id <= highestRemoteId;
  }

  private boolean isLocalParity(long id) {
    return (id & 1) == (dialer ? 1 : 0);
  }

  /** Takes {@code s} out of the table (its wire state with it); false if it had left already. */
  boolean remove(TcpMuxedStream s) {
    if (!s.wire().remove()) {
      return false;
    }
    streams.remove(s.id());
    if (!isLocalParity(s.id())) {
      recentlyClosedRemote.add(s.id());
      if (recentlyClosedRemote.size() > RECENTLY_CLOSED) {
        recentlyClosedRemote.remove(recentlyClosedRemote.iterator().next());
      }
    }
    return true;
  }

  /** The channel is gone: every stream leaves. */
  void clear() {
    for (TcpMuxedStream s : new ArrayList<>(streams.values())) {
      remove(s);
    }
  }
}
