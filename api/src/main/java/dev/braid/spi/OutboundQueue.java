package dev.braid.spi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A stream's send side: writes waiting for the transport, the one write the transport holds, and the
 * signals (FIN, STOP_SENDING, RESET) still to send. {@link #next} hands the transport one {@link Action}
 * at a time, in the order the wire needs: a reset first (it ends everything), then STOP_SENDING, then data,
 * then the FIN after the last byte. Netty's {@code ChannelOutboundBuffer} is the model.
 *
 * <p><b>Thread safety.</b> Not thread-safe: guarded by the owning stream's lock.
 */
final class OutboundQueue {
  /** What the transport is asked to do next; one at a time, never under the stream's lock. */
  sealed interface Action permits Data, Fin, StopSending, Reset {}

  /** Send these bytes ({@code AbstractMuxedStream.transmit}). */
  record Data(PendingWrite write) implements Action {}

  /** Send end-of-stream ({@code transmitFin}). */
  record Fin() implements Action {}

  /** Tell the peer we stopped reading ({@code transmitStopSending}). */
  record StopSending(long code) implements Action {}

  /** Abort the stream on the wire ({@code transmitReset}); nothing is sent after it. */
  record Reset(long code) implements Action {}

  /** One write: its bytes and the future the application holds. */
  record PendingWrite(ByteBuffer data, CompletableFuture<Void> future) {}

  private ArrayDeque<PendingWrite> waiting; // made with the first write that waits: most streams never queue one
  private PendingWrite inFlight;
  private boolean finQueued;
  private boolean finSent;
  private long resetCode = -1;
  private long stopSendingCode = -1;
  private boolean dead;
  private boolean busy;

  void add(PendingWrite w) {
    if (waiting == null) {
      waiting = new ArrayDeque<>(2);
    }
    waiting.add(w);
  }

  /** Whether a new write must wait for the running pump, the write in flight, or the stream to open. */
  boolean mustWait(boolean opened) {
    return busy || inFlight != null || !opened;
  }

  void queueFin() {
    finQueued = true;
  }

  /** The peer stopped our writes: no FIN will follow. */
  void dropFin() {
    finQueued = false;
  }

  void queueStopSending(long code) {
    stopSendingCode = code;
  }

  void queueReset(long code) {
    resetCode = code;
  }

  /** Nothing more goes on the wire (the peer reset the stream, or the connection failed). */
  void kill() {
    dead = true;
  }

  boolean isDead() {
    return dead;
  }

  /** Whether the FIN was handed to the transport. */
  boolean finSent() {
    return finSent;
  }

  /** Whether writes or a FIN are still to go out. */
  boolean hasPending() {
    return !dead && (inFlight != null || hasWaiting() || (finQueued && !finSent));
  }

  /**
   * Whether nothing more will be handed to the transport and it holds nothing of ours. A queued reset is still to
   * go, even after the FIN (a reset that follows the FIN must reach the peer: kit rule R2).
   */
  boolean ended(boolean stoppedByPeer) {
    return !busy && resetCode < 0 && (dead || finSent || (stoppedByPeer && inFlight == null));
  }

  /**
   * The next action for the transport, marking the queue busy until {@link #done()}; null when there is
   * nothing to do now (already busy, dead, not open yet, or waiting for the write in flight).
   */
  Action next(boolean opened) {
    if (busy || dead) {
      return null;
    }
    Action a;
    if (resetCode >= 0) {
      a = new Reset(resetCode);
      resetCode = -1;
      dead = true;
    } else if (!opened) {
      return null;
    } else if (stopSendingCode >= 0) {
      a = new StopSending(stopSendingCode);
      stopSendingCode = -1;
    } else if (inFlight == null && hasWaiting()) {
      inFlight = waiting.poll();
      a = new Data(inFlight);
    } else if (inFlight == null && finQueued && !finSent) {
      finSent = true;
      a = new Fin();
    } else {
      return null;
    }
    busy = true;
    return a;
  }

  /** The transport returned from the action {@link #next} gave it. */
  void done() {
    busy = false;
  }

  /** The transmission of {@code w} completed; returns whether it was still ours (not failed meanwhile). */
  boolean completed(PendingWrite w) {
    if (inFlight != w) {
      return false;
    }
    inFlight = null;
    return true;
  }

  private boolean hasWaiting() {
    return waiting != null && !waiting.isEmpty();
  }

  /** Fails the write in flight and every waiting write with {@code error} (after the lock is released). */
  void failWrites(Deferred d, IOException error) {
    List<CompletableFuture<Void>> failed = new ArrayList<>(waiting == null ? 1 : waiting.size() + 1);
    if (inFlight != null) {
      failed.add(inFlight.future());
      inFlight = null;
    }
    if (waiting != null) {
      for (PendingWrite w : waiting) {
        failed.add(w.future());
      }
      waiting.clear();
    }
    if (!failed.isEmpty()) {
      d.add(() -> failed.forEach(f -> f.completeExceptionally(error)));
    }
  }
}
