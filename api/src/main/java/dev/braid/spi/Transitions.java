package dev.braid.spi;

import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.internal.StreamEvents;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Tells everyone who watches a stream about its transitions: its listeners (serially, in order, on a Braid
 * event thread), {@link MuxedStream#terminated()}, the debug log and the JFR events.
 *
 * <p><b>Thread safety.</b> {@link #announce} is called under the stream's lock (that is what keeps
 * transitions in order); it only enqueues. Everything that runs user or transport code goes into the
 * {@link Deferred} or onto the stream's serial executor.
 */
final class Transitions {
  private static final System.Logger LOG = System.getLogger("dev.braid.stream");

  private final MuxedStream stream;
  private final String transportId;
  private final long connectionId;
  private final SerialExecutor events = new SerialExecutor(BraidThreads.events());
  private final CopyOnWriteArrayList<StreamStateListener> listeners = new CopyOnWriteArrayList<>();
  private final BraidFuture<StreamState> terminated = new BraidFuture<>();
  /** The JFR event of the stream's lifetime; null unless recording was on when the stream began (the common case). */
  private final StreamEvents.Close lifetimeEvent;

  Transitions(MuxedStream stream, String transportId, long connectionId, StreamStateListener first) {
    this.stream = stream;
    this.transportId = transportId;
    this.connectionId = connectionId;
    if (first != null) {
      listeners.add(first);
    }
    StreamEvents.Close lifetime = new StreamEvents.Close();
    this.lifetimeEvent = lifetime.isEnabled() ? lifetime : null; // an idle stream keeps no event object
    if (lifetimeEvent != null) {
      lifetimeEvent.begin();
    }
    StreamEvents.Open open = new StreamEvents.Open();
    if (open.isEnabled()) {
      open.transport = transportId;
      open.connection = connectionId;
      open.stream = stream.id();
      open.local = stream.isLocallyInitiated();
      open.commit();
    }
  }

  void add(StreamStateListener l) {
    listeners.add(l);
  }

  void remove(StreamStateListener l) {
    listeners.remove(l);
  }

  CompletableFuture<StreamState> terminated() {
    return terminated.copy();
  }

  /** Runs {@code task} on the stream's serial event executor (never on the calling thread). */
  void later(Runnable task) {
    events.execute(task);
  }

  /**
   * Announces {@code from -> to}; {@code onTerminal} (the transport's {@code onTerminated}) runs from
   * {@code d} when {@code to} is terminal.
   */
  void announce(Deferred d, StreamState from, StreamState to, long read, long written, Consumer<StreamState> onTerminal) {
    if (!listeners.isEmpty()) {
      events.execute(() -> deliver(from, to)); // terminated() completes after the listeners saw it
    } else if (to.isTerminal()) {
      d.add(() -> terminated.complete(to)); // no listener: no event-thread hop (10,000 streams closing at once)
    }
    d.add(() -> record(from, to, read, written, onTerminal));
  }

  private void record(StreamState from, StreamState to, long read, long written, Consumer<StreamState> onTerminal) {
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: {1} -> {2}", stream, from, to);
    }
    StreamEvents.Transition t = new StreamEvents.Transition();
    if (t.isEnabled()) {
      t.transport = transportId;
      t.connection = connectionId;
      t.stream = stream.id();
      t.from = from.name();
      t.to = to.name();
      t.commit();
    }
    if (to.isTerminal()) {
      if (lifetimeEvent != null) {
        lifetimeEvent.end();
      }
      if (lifetimeEvent != null && lifetimeEvent.shouldCommit()) {
        lifetimeEvent.transport = transportId;
        lifetimeEvent.connection = connectionId;
        lifetimeEvent.stream = stream.id();
        lifetimeEvent.state = to.name();
        lifetimeEvent.bytesRead = read;
        lifetimeEvent.bytesWritten = written;
        lifetimeEvent.commit();
      }
      try {
        onTerminal.accept(to);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transport cleanup failed for stream " + stream, e);
      }
    }
  }

  private void deliver(StreamState from, StreamState to) {
    for (StreamStateListener l : listeners) {
      try {
        l.onStateChange(stream, from, to);
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "stream listener threw on " + stream + " (" + from + " -> " + to
            + "); the stream is unaffected", e);
      }
    }
    if (to.isTerminal()) {
      terminated.complete(to);
    }
  }
}
