package dev.braid.conformance.reference;

import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamRefusedException;
import dev.braid.StreamStateListener;
import dev.braid.spi.SerialExecutor;
import dev.braid.spi.AbstractConnection;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One end of an in-memory connection. Frames from the peer run, in order, on this end's inbox.
 * Thread-safe.
 */
final class MemConnection extends AbstractConnection {
  final MemTransport transport;
  final Executor inbox;
  private final Map<Long, MemMuxedStream> wireStreams = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<MuxedStream>> opening = new ConcurrentHashMap<>();
  private final AtomicLong nextId;
  private final AtomicBoolean ended = new AtomicBoolean();
  private volatile MemConnection peer;

  MemConnection(MemTransport transport, boolean dialer, URI local, URI remote) {
    super(transport.id(), dialer, local, remote, transport.capabilities(), transport.options);
    this.transport = transport;
    this.inbox = new SerialExecutor(transport.wire);
    this.nextId = new AtomicLong(dialer ? 1 : 2);
  }

  void link(MemConnection other) {
    this.peer = other;
    startTimers();
  }

  // ------------------------------------------------------------ keep-alive, idle timeout, silent kill

  private volatile long lastHeard = System.nanoTime();
  private volatile boolean silenced;
  private java.util.concurrent.ScheduledFuture<?> ticker;

  /**
   * Pings the peer every keep-alive interval and ends the connection with {@link ConnectionTimedOutException}
   * once nothing was heard from it for the idle timeout: how the survivor of a peer that vanished learns of it.
   */
  private void startTimers() {
    long idle = options().idleTimeout().toMillis();
    long keepAlive = options().keepAliveInterval().toMillis();
    long period = Math.max(10, Math.min(keepAlive > 0 ? keepAlive : idle, idle / 4));
    long[] lastPing = {System.nanoTime()};
    try {
      ticker = transport.timer.scheduleAtFixedRate(() -> {
        if (ended.get()) {
          return;
        }
        long now = System.nanoTime();
        if (now - lastHeard > java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(idle)) {
          end(new ConnectionTimedOutException("mem: nothing heard from the peer for " + idle + " ms (idle timeout)",
              null), true);
        } else if (keepAlive > 0 && now - lastPing[0] >= java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(keepAlive)) {
          lastPing[0] = now;
          post(new Frame(Frame.PING, 0, 0, null));
        }
      }, period, period, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the transport is closing: the connection ends with it
    }
  }

  /**
   * The conformance kit's silent kill: this end ends at once and nothing more reaches the peer, which learns of it
   * only through its idle timeout. (Broken with {@link Breakage#KILL_LEAKS_CLOSE}: an abort frame gets out first.)
   */
  void vanish() {
    if (breakage() == Breakage.KILL_LEAKS_CLOSE) {
      post(new Frame(Frame.ABORT, 0, 0, null));
    }
    silenced = true;
    end(new ConnectionFailedException("mem: killed without a word by the conformance kit", null), false);
  }

  Breakage breakage() {
    return transport.breakage();
  }

  /** Sends a frame: it runs on the peer's inbox, after every frame sent before it. */
  void post(Frame f) {
    MemConnection p = peer;
    if (silenced || p == null || p.ended.get()) {
      return; // the peer is gone; the frame is lost as on a dead socket
    }
    p.inbox.execute(() -> p.onFrame(f));
  }

  /**
   * For {@link Breakage#FIN_OVERTAKES_QUEUED_DATA}: hands {@code f} to the peer at once, on this thread, ahead of
   * the frames still queued on its inbox (the stream's lifecycle is thread-safe; only the order is wrong).
   */
  void postOvertaking(Frame f) {
    MemConnection p = peer;
    if (p == null || p.ended.get()) {
      return;
    }
    p.onFrame(f);
  }

  /**
   * For {@link Breakage#FIN_LOST_WHEN_RESET_RACES}: sends {@code f} a moment later, from the transport's wire
   * threads, unless {@code drop} holds by then.
   */
  void postLater(Frame f, java.util.function.BooleanSupplier drop) {
    try {
      transport.wire.execute(() -> {
        Thread.yield();
        if (!drop.getAsBoolean()) {
          post(f);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      post(f); // the transport is closing: send it now
    }
  }

  // ------------------------------------------------------------ AbstractConnection

  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    long id = nextId.getAndAdd(2);
    MemMuxedStream s = new MemMuxedStream(this, id, true, listener);
    if (!addStream(s)) {
      return CompletableFuture.failedFuture(endCause() != null ? endCause()
          : new StreamRefusedException("stream limit reached: maxStreams=" + options().maxStreams()));
    }
    CompletableFuture<MuxedStream> f = new CompletableFuture<>();
    opening.put(id, f);
    wireStreams.put(id, s);
    post(new Frame(Frame.OPEN, id, 0, null));
    return f;
  }

  @Override
  protected void doClose() {
    if (breakage() == Breakage.CLOSE_SEEN_AS_CRASH) {
      post(new Frame(Frame.ABORT, 0, 0, null));
    } else if (breakage() != Breakage.CLOSE_NOT_PROPAGATED) {
      post(new Frame(Frame.GOAWAY, 0, 0, null));
    }
    // Our own inbox runs after every frame already queued for us: end there.
    inbox.execute(() -> end(null, false));
  }

  @Override
  protected void doAbort(Throwable cause) {
    post(new Frame(Frame.ABORT, 0, 0, null));
    end(cause, false);
  }

  private void end(Throwable cause, boolean remote) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    if (ticker != null) {
      ticker.cancel(false);
    }
    ConnectionFailedException reason = cause == null ? null
        : cause instanceof ConnectionFailedException ? (ConnectionFailedException) cause
        : new ConnectionFailedException("connection lost: " + cause.getMessage(), cause);
    terminated(reason, remote);
    List<MemMuxedStream> all = new ArrayList<>(wireStreams.values());
    wireStreams.clear();
    ConnectionFailedException failure = endCause();
    for (MemMuxedStream s : all) {
      s.connectionEnded(failure); // ends streams still flushing after close()
    }
    for (CompletableFuture<MuxedStream> f : opening.values()) {
      f.completeExceptionally(failure);
    }
    opening.clear();
    transport.connectionEnded(this);
  }

  void forget(MemMuxedStream s) {
    wireStreams.remove(s.id(), s);
  }

  int liveWireStreams() {
    return wireStreams.size();
  }

  // ------------------------------------------------------------ inbound frames (on the inbox)

  private void onFrame(Frame f) {
    if (ended.get()) {
      return;
    }
    lastHeard = System.nanoTime();
    try {
      switch (f.type) {
        case Frame.PING:
          return;
        case Frame.OPEN:
          onOpen(f.id);
          return;
        case Frame.GOAWAY:
          end(null, true);
          return;
        case Frame.ABORT:
          end(new IOException("the peer aborted the connection"), true);
          return;
        default:
          break;
      }
      MemMuxedStream s = wireStreams.get(f.id);
      if (f.type == Frame.ACK || f.type == Frame.REFUSE) {
        CompletableFuture<MuxedStream> open = opening.remove(f.id);
        if (s == null || open == null) {
          return;
        }
        if (f.type == Frame.ACK) {
          s.ackReceived();
          open.complete(s);
        } else if (breakage() == Breakage.REFUSAL_AS_PLAIN_RESET) {
          s.ackReceived(); // the broken transport hands the stream out, then resets it with code 0
          open.complete(s);
          s.onFrame(new Frame(Frame.RST, f.id, 0, null));
        } else {
          wireStreams.remove(f.id);
          s.refused();
          open.completeExceptionally(new StreamRefusedException("the peer refused stream " + f.id
              + " (its stream limit or accept queue is full)", true));
        }
        return;
      }
      if (s == null) {
        return; // a late frame for a stream both sides finished with
      }
      s.onFrame(f);
    } catch (ProtocolException e) {
      abort(e);
    } catch (RuntimeException e) {
      abort(new ProtocolException("mem: internal error handling " + f + ": " + e, e));
    }
  }

  private void onOpen(long id) throws ProtocolException {
    boolean peerIsDialer = !isDialer();
    if ((id % 2 == 1) != peerIsDialer) {
      throw new ProtocolException("mem: stream id " + id + " has the wrong parity for the peer");
    }
    if (wireStreams.containsKey(id)) {
      throw new ProtocolException("mem: stream id " + id + " reused");
    }
    MemMuxedStream s = new MemMuxedStream(this, id, false, null);
    if (!addStream(s)) {
      post(new Frame(Frame.REFUSE, id, 0, null));
      return;
    }
    wireStreams.put(id, s);
    post(new Frame(Frame.ACK, id, 0, null));
    if (!deliverInbound(s)) {
      s.refuseInbound();
    }
  }

  /** One frame on the in-memory wire. */
  static final class Frame {
    static final int OPEN = 0;
    static final int ACK = 1;
    static final int REFUSE = 2;
    static final int DATA = 3;
    static final int FIN = 4;
    static final int RST = 5;
    static final int STOP = 6;
    static final int CREDIT = 7;
    static final int SEND_ENDED = 8;
    static final int GOAWAY = 9;
    static final int ABORT = 10;
    static final int PING = 11;

    final int type;
    final long id;
    final long value;
    final byte[] data;

    Frame(int type, long id, long value, byte[] data) {
      this.type = type;
      this.id = id;
      this.value = value;
      this.data = data;
    }

    @Override
    public String toString() {
      return "Frame{type=" + type + ", id=" + id + ", value=" + value + ", bytes=" + (data == null ? 0 : data.length) + "}";
    }
  }
}
