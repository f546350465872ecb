package dev.braid.conformance;

import dev.braid.StreamState;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The executable reference model of {@code SPEC.md}: what each end of one stream must be in, and which
 * bytes it must read, after every operation has taken effect on both ends. It knows nothing of any
 * transport; the randomized run compares real streams against it.
 *
 * <p>Not thread-safe: the randomized run applies one operation at a time.
 */
public final class LifecycleModel {
  private final End opener = new End("opener");
  private final End acceptor = new End("acceptor");
  private final boolean stopSending;

  /** @param stopSending whether the transport tells the peer about closeRead */
  public LifecycleModel(boolean stopSending) {
    this.stopSending = stopSending;
    opener.peer = acceptor;
    acceptor.peer = opener;
  }

  /** The end that opened the stream. */
  public End opener() {
    return opener;
  }

  /** The end that accepted it. */
  public End acceptor() {
    return acceptor;
  }

  /** What one end of the stream must be. */
  public final class End {
    private final String name;
    End peer;
    boolean writeClosedLocally;
    boolean stoppedByPeer;
    boolean finSent;
    boolean readClosedLocally;
    boolean finReceived;
    StreamState terminal; // RESET or FAILED
    long resetCode;
    boolean resetRemote;
    private final ByteArrayOutputStream inbound = new ByteArrayOutputStream(); // bytes the peer sent us, unread
    private int readOffset;

    End(String name) {
      this.name = name;
    }

    /** The state this end must be in. */
    public StreamState state() {
      if (terminal != null) {
        return terminal;
      }
      boolean r = finReceived || readClosedLocally;
      boolean w = writeClosedLocally || stoppedByPeer;
      return r && w ? StreamState.CLOSED : r ? StreamState.READ_CLOSED : w ? StreamState.WRITE_CLOSED : StreamState.OPEN;
    }

    /** Whether a write must succeed now. */
    public boolean writable() {
      return terminal == null && !writeClosedLocally && !stoppedByPeer;
    }

    /** Unread bytes the peer sent that this end must still read. */
    public int unread() {
      return inbound.size() - readOffset;
    }

    /** Whether a read must return end-of-stream (after the unread bytes). */
    public boolean atEnd() {
      return readClosedLocally || finReceived;
    }

    /** Whether bytes written to this end are kept for reading (not discarded). */
    boolean keeps() {
      return terminal == null && !readClosedLocally && !state().isTerminal();
    }

    /** The next {@code n} bytes this end must read. */
    public byte[] expect(int n) {
      byte[] all = inbound.toByteArray();
      return Arrays.copyOfRange(all, readOffset, readOffset + n);
    }

    /** This end read {@code n} bytes. */
    public void consumed(int n) {
      readOffset += n;
    }

    /** This end wrote {@code data} and the write succeeded. */
    public void wrote(byte[] data) {
      if (peer.keeps()) {
        peer.inbound.write(data, 0, data.length);
      }
    }

    /** This end called closeWrite. */
    public void closeWrite() {
      if (state().isTerminal() || writeClosedLocally) {
        return;
      }
      writeClosedLocally = true;
      if (!stoppedByPeer) {
        finSent = true;
        if (peer.terminal == null && !peer.finReceived) {
          peer.finReceived = true;
        }
      }
    }

    /** This end called closeRead. */
    public void closeRead() {
      if (state().isTerminal() || readClosedLocally) {
        return;
      }
      readClosedLocally = true;
      readOffset = inbound.size(); // discarded
      if (stopSending && !finReceived && peer.terminal == null && !peer.finSent) {
        peer.stoppedByPeer = true;
      }
    }

    /** This end called close(). */
    public void close() {
      closeRead();
      closeWrite();
    }

    /** This end called reset(code). */
    public void reset(long code) {
      if (state().isTerminal()) {
        return;
      }
      terminal = StreamState.RESET;
      resetCode = code;
      resetRemote = false;
      if (!peer.state().isTerminal()) {
        peer.terminal = StreamState.RESET;
        peer.resetCode = code;
        peer.resetRemote = true;
      }
    }

    /** The connection under this end ended. */
    public void connectionEnded() {
      if (!state().isTerminal()) {
        terminal = StreamState.FAILED;
      }
    }

    @Override
    public String toString() {
      return name + "{" + state() + ", unread=" + unread() + ", writable=" + writable() + ", atEnd=" + atEnd() + "}";
    }
  }
}
