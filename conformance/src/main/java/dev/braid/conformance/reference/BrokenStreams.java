package dev.braid.conformance.reference;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Decorators that give the reference transport the defects a wrapper can show: lost listener events,
 * writes accepted after closeWrite, a state check separated from the write it guards, and resets noticed
 * even when they are no-ops.
 */
final class BrokenStreams {
  private BrokenStreams() {}

  static Connection wrap(MemConnection c, Breakage b) {
    switch (b) {
      case LOST_LISTENER_EVENT:
      case WRITE_ALLOWED_AFTER_CLOSE_WRITE:
      case STATE_CHECKED_OUTSIDE_LOCK:
      case FIN_LOST_WHEN_RESET_RACES:
        return new BrokenConnection(c, b);
      default:
        return c;
    }
  }

  static StreamStateListener dropReadClosed(StreamStateListener l) {
    return (s, from, to) -> {
      if (to != StreamState.READ_CLOSED) {
        l.onStateChange(s, from, to);
      }
    };
  }

  /** The reference connection under {@code c}, wrapped or not. */
  static MemConnection unwrap(Connection c) {
    return c instanceof BrokenConnection ? ((BrokenConnection) c).delegate() : (MemConnection) c;
  }

  private static final class BrokenConnection implements Connection {
    private final MemConnection delegate;
    private final Breakage breakage;
    private final Map<MuxedStream, BrokenStream> wrapped = new ConcurrentHashMap<>();

    BrokenConnection(MemConnection delegate, Breakage breakage) {
      this.delegate = delegate;
      this.breakage = breakage;
    }

    MemConnection delegate() {
      return delegate;
    }

    MuxedStream wrap(MuxedStream s) {
      return wrapped.computeIfAbsent(s, k -> {
        k.terminated().whenComplete((end, t) -> wrapped.remove(k)); // no wrapper outlives its stream (rule N7)
        return new BrokenStream((MemMuxedStream) k, this);
      });
    }

    StreamStateListener wrap(StreamStateListener l) {
      if (l == null) {
        return null;
      }
      StreamStateListener forwarding = (s, from, to) -> l.onStateChange(wrap(s), from, to);
      return breakage == Breakage.LOST_LISTENER_EVENT ? dropReadClosed(forwarding) : forwarding;
    }

    @Override public String transportId() { return delegate.transportId(); }
    @Override public boolean isDialer() { return delegate.isDialer(); }
    @Override public URI localAddress() { return delegate.localAddress(); }
    @Override public URI remoteAddress() { return delegate.remoteAddress(); }
    @Override public Set<Capability> capabilities() { return delegate.capabilities(); }
    @Override public TransportOptions options() { return delegate.options(); }

    @Override
    public CompletableFuture<MuxedStream> openStream(StreamStateListener listener) {
      return delegate.openStream(wrap(listener)).thenApply(this::wrap);
    }

    @Override
    public CompletableFuture<MuxedStream> acceptStream() {
      return delegate.acceptStream().thenApply(this::wrap);
    }

    @Override
    public void setStreamHandler(Consumer<MuxedStream> handler) {
      delegate.setStreamHandler(s -> handler.accept(wrap(s)));
    }

    @Override
    public List<MuxedStream> streams() {
      return delegate.streams().stream().map(this::wrap).collect(Collectors.toList());
    }

    @Override public boolean isOpen() { return delegate.isOpen(); }
    @Override public CompletableFuture<Void> closeFuture() { return delegate.closeFuture(); }
    @Override public void close() { delegate.close(); }
    @Override public void abort(Throwable cause) { delegate.abort(cause); }

    @Override
    public String toString() {
      return "broken(" + breakage + ") " + delegate;
    }
  }

  private static final class BrokenStream implements MuxedStream {
    private final MemMuxedStream delegate;
    private final BrokenConnection connection;

    BrokenStream(MemMuxedStream delegate, BrokenConnection connection) {
      this.delegate = delegate;
      this.connection = connection;
    }

    @Override
    public CompletableFuture<Void> write(ByteBuffer src) {
      StreamState s = delegate.state();
      if (connection.breakage == Breakage.WRITE_ALLOWED_AFTER_CLOSE_WRITE
          && s.isWriteClosed() && s != StreamState.RESET && s != StreamState.FAILED) {
        src.position(src.limit());
        return CompletableFuture.completedFuture(null);
      }
      if (connection.breakage == Breakage.STATE_CHECKED_OUTSIDE_LOCK && !s.isWriteClosed()) {
        Thread.yield(); // the window in which another thread's closeWrite slips in
        delegate.sendRaw(src);
        return CompletableFuture.completedFuture(null);
      }
      return delegate.write(src);
    }

    @Override
    public void addListener(StreamStateListener listener) {
      delegate.addListener(connection.wrap(listener));
    }

    @Override public long id() { return delegate.id(); }
    @Override public Connection connection() { return connection; }
    @Override public boolean isLocallyInitiated() { return delegate.isLocallyInitiated(); }
    @Override public StreamState state() { return delegate.state(); }
    @Override public CompletableFuture<Integer> read(ByteBuffer dst) { return delegate.read(dst); }
    @Override public CompletableFuture<Void> closeWrite() { return delegate.closeWrite(); }
    @Override public void closeRead() { delegate.closeRead(); }
    @Override public void close() { delegate.close(); }
    @Override
    public void reset(long code) {
      delegate.resetRequested = true;
      delegate.reset(code);
    }
    @Override public void removeListener(StreamStateListener listener) { /* wrappers are not tracked */ }
    @Override public CompletableFuture<StreamState> terminated() { return delegate.terminated(); }
    @Override public long bytesRead() { return delegate.bytesRead(); }
    @Override public long bytesWritten() { return delegate.bytesWritten(); }
    @Override public InputStream inputStream() { return delegate.inputStream(); }
    @Override public OutputStream outputStream() { return delegate.outputStream(); }

    @Override
    public String toString() {
      return "broken " + delegate;
    }
  }
}
