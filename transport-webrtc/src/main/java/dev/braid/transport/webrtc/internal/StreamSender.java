package dev.braid.transport.webrtc.internal;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The sending side of one stream's data channel, and the channel's native handle: every send on the channel (data
 * records, flags, window updates), its closing and its disposal happen under one lock that no native callback takes,
 * so a send never races the channel's disposal.
 *
 * <p><b>Backpressure.</b> A write completes once its records are handed to the channel and the channel's buffered
 * amount is at or below {@value #LOW_WATER} bytes; the writer stops handing over records above {@value #HIGH_WATER}
 * bytes (libwebrtc silently closes a channel with more than 16 MiB buffered). The buffered amount is polled by the
 * transport's {@link BufferedAmountPoller} (it says why). A write that waits for the Braid peer's credit is parked, not
 * polled, until a window update resumes it. A poll or window update that comes after the stream stopped being
 * writable (reset, STOP_SENDING, failure) finds no pending write and does nothing.
 *
 * <p><b>Batching.</b> Records go out in as few data channel messages as their order allows ({@link Outbox}).
 *
 * <p><b>Thread safety.</b> Thread-safe: all state is guarded by {@code lock}; futures complete outside it.
 */
final class StreamSender {
  private static final System.Logger LOG = System.getLogger(StreamSender.class.getName());

  static final long LOW_WATER = 256 * 1024;
  static final long HIGH_WATER = 1024 * 1024;

  private final Object owner; // the stream, for messages
  private final RTCDataChannel channel;
  private final Outbox outbox;
  private final BufferedAmountPoller poller;
  private final Executor serial;
  private final long receiveWindow; // -1: the peer does not speak Braid's flow control

  private final Object lock = new Object();
  // guarded by lock
  private Transmission pending;
  private boolean finSent;
  private boolean resetSent;
  private long resetBeforeOpen = -1;
  private boolean closeRequested;
  private boolean disposed;
  private ChannelObserver observer;
  private long sendCredit;
  private long unacknowledged;
  private long granted;

  StreamSender(Object owner, RTCDataChannel channel, BufferedAmountPoller poller, Executor serial, long receiveWindow,
      long peerWindow) {
    this.owner = owner;
    this.channel = channel;
    this.outbox = new Outbox(owner, channel);
    this.poller = poller;
    this.serial = serial;
    boolean flowControl = receiveWindow > 0 && peerWindow > 0;
    this.receiveWindow = flowControl ? receiveWindow : -1;
    this.sendCredit = flowControl ? peerWindow : Long.MAX_VALUE;
    this.granted = flowControl ? receiveWindow : Long.MAX_VALUE;
  }

  /** Whether the two ends run Braid's per-stream flow control (window updates) on this stream. */
  boolean flowControl() {
    return receiveWindow > 0;
  }

  // ---------------------------------------------------------------- data

  /** Sends {@code data} as records; the future completes once they are handed over and the buffer is low enough. */
  CompletableFuture<Void> transmit(ByteBuffer data) {
    Transmission t = new Transmission(data);
    long hold;
    synchronized (lock) {
      if (finSent || resetSent || disposed) {
        return CompletableFuture.failedFuture(new IOException("webrtc: the stream's send side has ended"));
      }
      pending = t;
      // The write's last record waits, until the connection's executor gets to it, for what the caller sends
      // right after the write completes (typically its FIN: write(x) then closeWrite()), to share one message.
      hold = outbox.startHold();
    }
    if (hold != 0) {
      serial.execute(() -> {
        synchronized (lock) {
          outbox.endHold(hold);
        }
      });
    }
    drive(t);
    return t.future;
  }

  /**
   * Drives {@code t} until it is done: polled while it waits for the channel's buffer to drain; parked (no polling)
   * while it waits for the peer's credit, until a window update resumes it.
   */
  private void drive(Transmission t) {
    if (pump(t) == Progress.WAIT_BUFFER) {
      poller.register(() -> pump(t) != Progress.WAIT_BUFFER);
    }
  }

  private enum Progress { DONE, WAIT_BUFFER, WAIT_CREDIT }

  /** Hands records of {@code t} to the channel, as far as buffer and credit allow. */
  private Progress pump(Transmission t) {
    boolean complete = false;
    IOException failure = null;
    synchronized (lock) {
      if (pending != t) {
        return Progress.DONE; // abandoned (reset, STOP_SENDING, failure): the drain event is ignored
      }
      if (disposed || resetSent || finSent) {
        pending = null;
        return Progress.DONE;
      }
      try {
        long buffered = channel.getBufferedAmount() + outbox.bytes();
        while (t.data.hasRemaining() && buffered < HIGH_WATER && sendCredit > 0) {
          int n = (int) Math.min(Math.min(t.data.remaining(), WebRtcFraming.MAX_PAYLOAD), sendCredit);
          byte[] record = WebRtcFraming.encodeData(t.data, n);
          outbox.send(record);
          sendCredit -= n;
          buffered += record.length;
        }
        if (!t.data.hasRemaining() && buffered <= LOW_WATER) {
          pending = null;
          complete = true;
        } else if (t.data.hasRemaining() && sendCredit <= 0) {
          t.waitingForCredit = true; // a window update resumes it (creditGranted)
          return Progress.WAIT_CREDIT;
        }
      } catch (IOException e) {
        pending = null;
        failure = e;
      }
    }
    if (failure != null) {
      t.future.completeExceptionally(failure);
      return Progress.DONE;
    }
    if (complete) {
      t.future.complete(null);
      return Progress.DONE;
    }
    return Progress.WAIT_BUFFER;
  }

  /** The peer granted {@code credit} more bytes (a window update): a write that waited for it resumes. */
  void creditGranted(long credit) {
    Transmission parked = null;
    synchronized (lock) {
      sendCredit += credit;
      if (pending != null && pending.waitingForCredit) {
        parked = pending;
        parked.waitingForCredit = false;
      }
    }
    if (parked != null) {
      drive(parked);
    }
  }

  /** The pending write, if any, is abandoned: nothing more of it is sent (after a reset, STOP_SENDING or failure). */
  void abandon() {
    synchronized (lock) {
      pending = null;
    }
  }

  /** Bytes the application consumed: grants the peer more credit (a window update) once a quarter window is due. */
  void consumed(int bytes) {
    if (receiveWindow < 0) {
      return;
    }
    synchronized (lock) {
      unacknowledged += bytes;
      if (unacknowledged < Math.max(receiveWindow / 4, 1) || resetSent || disposed || closeRequested) {
        return;
      }
      long grant = unacknowledged;
      unacknowledged = 0;
      granted += grant;
      try {
        outbox.send(WebRtcFraming.encodeWindowUpdate(grant));
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send a window update on {0}: {1}", owner, e.getMessage());
      }
    }
  }

  /** Bytes the peer may have sent in all (its receive window plus every grant so far). */
  long granted() {
    synchronized (lock) {
      return granted;
    }
  }

  // ---------------------------------------------------------------- flags

  /** Sends FIN after every record handed over before; once. */
  void sendFin() {
    synchronized (lock) {
      if (finSent || resetSent || disposed) {
        return;
      }
      finSent = true;
      sendFlagLocked(WebRtcFraming.FIN, WebRtcFraming.NO_CODE);
      outbox.endHold(); // nothing more follows: the held records and the FIN go out now, in one message
    }
  }

  /** Answers the peer's FIN. */
  void sendFinAck() {
    synchronized (lock) {
      if (!resetSent && !disposed) {
        sendFlagLocked(WebRtcFraming.FIN_ACK, WebRtcFraming.NO_CODE);
      }
    }
  }

  void sendStopSending(long code) {
    synchronized (lock) {
      if (resetSent || disposed) {
        return;
      }
      sendFlagLocked(WebRtcFraming.STOP_SENDING, code);
      outbox.endHold();
    }
  }

  /**
   * The peer sent STOP_SENDING: the pending write is abandoned (the peer discards it anyway) and our send side ends
   * with FIN, not RESET_STREAM (libp2p WebRTC spec).
   */
  void stopSendingReceived() {
    synchronized (lock) {
      pending = null;
      if (!finSent && !resetSent && !disposed) {
        finSent = true;
        sendFlagLocked(WebRtcFraming.FIN, WebRtcFraming.NO_CODE);
      }
    }
  }

  /**
   * Sends RESET_STREAM with {@code code} (once, whatever was sent before), abandoning the pending write; a channel
   * that is not open yet gets it once it opens ({@link #takeEarlyReset()}).
   */
  void reset(long code) {
    synchronized (lock) {
      pending = null;
      if (resetSent || disposed) {
        return;
      }
      if (channel.getState() != RTCDataChannelState.OPEN) {
        resetBeforeOpen = code;
        return;
      }
      resetSent = true;
      sendFlagLocked(WebRtcFraming.RESET_STREAM, code);
      outbox.endHold();
    }
  }

  /** The code of a reset made before the channel opened (to send now that it is open), or -1. */
  long takeEarlyReset() {
    synchronized (lock) {
      long code = disposed ? -1 : resetBeforeOpen;
      resetBeforeOpen = -1;
      return code;
    }
  }

  boolean finSent() {
    synchronized (lock) {
      return finSent;
    }
  }

  /** Whether our RESET_STREAM went on the wire. */
  boolean resetSent() {
    synchronized (lock) {
      return resetSent;
    }
  }

  // ---------------------------------------------------------------- batching

  /** Holds what is sent from now on until {@link #uncork()}, to send it in as few messages as possible. */
  void cork() {
    synchronized (lock) {
      outbox.cork();
    }
  }

  void uncork() {
    synchronized (lock) {
      outbox.uncork();
    }
  }

  private void sendFlagLocked(int flag, long code) {
    try {
      outbox.send(WebRtcFraming.encodeFlag(flag, code));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send {0} on {1}: {2}", WebRtcFraming.flagName(flag), owner,
          e.getMessage());
    }
  }

  // ---------------------------------------------------------------- the native channel (signaling executor)

  /** Registers {@code target}'s observer on the channel, once. */
  void registerObserver(ChannelObserver.Target target) {
    synchronized (lock) {
      if (!disposed && observer == null) {
        observer = new ChannelObserver(target);
        channel.registerObserver(observer);
      }
    }
  }

  /** The channel's live state, or null once it is disposed. */
  RTCDataChannelState state() {
    synchronized (lock) {
      return disposed ? null : channel.getState();
    }
  }

  boolean disposed() {
    synchronized (lock) {
      return disposed;
    }
  }

  /** Whether closing the channel was asked for already, or it is disposed. */
  boolean closing() {
    synchronized (lock) {
      return closeRequested || disposed;
    }
  }

  /** Closes the channel (libwebrtc sends the messages queued before first); held records go out before. */
  void close() {
    synchronized (lock) {
      if (closeRequested || disposed) {
        return;
      }
      outbox.flush(); // held records (a FIN_ACK, a RESET_STREAM) go out before the channel closes
      outbox.close();
      closeRequested = true;
      pending = null;
      try {
        channel.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc: closing the data channel of " + owner + " failed", e);
      }
    }
  }

  /** Unregisters the observer and frees the native channel; returns whether this call did it (once). */
  boolean dispose() {
    synchronized (lock) {
      if (disposed) {
        return false;
      }
      disposed = true;
      pending = null; // the stream fails it: the connection's end, or the closure of its channel (see the stream)
      outbox.close();
      boolean closed = closeRequested;
      closeRequested = true;
      try {
        NativePeer.release(channel, observer != null, closed);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc: disposing the data channel of " + owner + " failed", e);
      } finally {
        if (observer != null) {
          observer.detach(); // webrtc-java never frees it (see ChannelObserver): it must not keep the stream
        }
      }
      return true;
    }
  }

  /** Bytes not yet delivered to SCTP: queued in the channel plus what a pending write still holds; 0 once gone. */
  long unsentBytes() {
    synchronized (lock) {
      if (disposed || closeRequested) {
        return 0;
      }
      return channel.getBufferedAmount() + outbox.bytes() + (pending == null ? 0 : pending.data.remaining());
    }
  }

  private static final class Transmission {
    final ByteBuffer data;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    boolean waitingForCredit; // guarded by the sender's lock

    Transmission(ByteBuffer data) {
      this.data = data;
    }
  }
}
