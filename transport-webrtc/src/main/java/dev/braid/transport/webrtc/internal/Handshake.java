package dev.braid.transport.webrtc.internal;

import dev.braid.ConnectionFailedException;
import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceConnectionState;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.RTCSignalingState;
import dev.onvoid.webrtc.RTCStatsReport;
import java.util.concurrent.CompletableFuture;

/**
 * One connection's peer connection and its SDP offer/answer exchange. Signaling is non-trickle: each side's description
 * goes out once ICE gathering completed, with every candidate in it. Braid's SDP extensions, ignored by other peers:
 * the dialer announces its per-stream receive window ({@code a=x-braid-window}) and the keep-alive
 * ({@code a=x-braid-keepalive}); the listener answers with each only when the offer had it.
 *
 * <p><b>Thread safety.</b> Thread-safe. Every call into the peer connection runs on the transport's signaling executor
 * ({@link WebRtcConnection#signal}); libwebrtc's callbacks only hand their arguments on.
 */
final class Handshake {
  private final WebRtcConnection connection;
  private final CompletableFuture<Void> gathered = new CompletableFuture<>();
  private volatile RTCPeerConnection pc; // written once on the signaling executor

  Handshake(WebRtcConnection connection) {
    this.connection = connection;
  }

  /** The peer connection, or null before the handshake created it. */
  RTCPeerConnection pc() {
    return pc;
  }

  /** Dialer: creates the peer connection and the control channel, and returns the complete SDP offer. */
  CompletableFuture<String> createOffer() {
    CompletableFuture<String> result = new CompletableFuture<>();
    connection.signal(result, () -> {
      createPeer();
      connection.control().create(pc);
      pc.createOffer(new RTCOfferOptions(), describe(result, "createOffer"));
    });
    // Announce Braid's per-stream flow control and keep-alive to the listener (a non-Braid answerer ignores them).
    int window = connection.options().receiveWindow();
    return result.thenApply(sdp -> SdpCheck.withKeepAlive(SdpCheck.withWindow(sdp, window)));
  }

  /** Dialer: applies the listener's SDP answer. */
  CompletableFuture<Void> applyAnswer(String sdp) {
    connection.peerAnnounced(SdpCheck.window(sdp), SdpCheck.keepAlive(sdp));
    CompletableFuture<Void> result = new CompletableFuture<>();
    connection.signal(result, () -> NativePeer.setRemoteDescription(pc,
        new RTCSessionDescription(RTCSdpType.ANSWER, sdp),
        NativePeer.whenSet(() -> result.complete(null), error -> result.completeExceptionally(
            new ConnectionFailedException("webrtc: the listener's SDP answer was rejected: " + error, null)))));
    return result;
  }

  /** Listener: applies the dialer's offer and returns the complete SDP answer. */
  CompletableFuture<String> acceptOffer(String sdp) {
    long announced = SdpCheck.window(sdp);
    boolean keepAlive = SdpCheck.keepAlive(sdp);
    connection.peerAnnounced(announced, keepAlive);
    CompletableFuture<String> result = new CompletableFuture<>();
    connection.signal(result, () -> {
      createPeer();
      RTCSessionDescription offer;
      try {
        offer = new RTCSessionDescription(RTCSdpType.OFFER, sdp);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(e);
      }
      NativePeer.setRemoteDescription(pc, offer, NativePeer.whenSet(
          () -> connection.signal(result, () -> {
            connection.control().create(pc);
            pc.createAnswer(new RTCAnswerOptions(), describe(result, "createAnswer"));
          }),
          error -> result.completeExceptionally(
              new SignalingServer.OfferRejectedException("the SDP offer was rejected: " + error))));
    });
    // Only a dialer that announced Braid's flow control (keep-alive) gets it back.
    int window = connection.options().receiveWindow();
    return result.thenApply(a -> {
      String answer = announced > 0 ? SdpCheck.withWindow(a, window) : a;
      return keepAlive ? SdpCheck.withKeepAlive(answer) : answer;
    });
  }

  /** Sets the created description as the local one, then completes {@code result} with it once gathering is done. */
  private CreateSessionDescriptionObserver describe(CompletableFuture<String> result, String what) {
    return NativePeer.whenCreated(
        description -> connection.signal(result, () -> pc.setLocalDescription(description, NativePeer.whenSet(
            () -> whenGathered(result),
            error -> result.completeExceptionally(
                new ConnectionFailedException("webrtc: setLocalDescription failed: " + error, null))))),
        error -> result.completeExceptionally(new ConnectionFailedException("webrtc: " + what + " failed: " + error,
            null)));
  }

  /** Non-trickle: the SDP goes out once ICE gathering is complete, with every candidate in it. */
  private void whenGathered(CompletableFuture<String> result) {
    gathered.whenComplete((ok, err) -> connection.signal(result, () -> {
      RTCSessionDescription local = pc.getLocalDescription();
      if (local == null) {
        throw new IllegalStateException("no local description after gathering");
      }
      result.complete(local.sdp);
    }));
    connection.signal(result, () -> {
      if (pc.getIceGatheringState() == RTCIceGatheringState.COMPLETE) {
        gathered.complete(null);
      }
    });
  }

  private void createPeer() {
    pc = NativePeer.createPeerConnection(connection.transport().factory(), new PeerConnectionObserver() {
      @Override
      public void onIceCandidate(RTCIceCandidate candidate) {
        // Non-trickle signaling: candidates travel inside the complete SDP.
      }

      @Override
      public void onIceGatheringChange(RTCIceGatheringState state) {
        if (state == RTCIceGatheringState.COMPLETE) {
          gathered.complete(null);
        }
      }

      @Override
      public void onConnectionChange(RTCPeerConnectionState state) {
        connection.serial().execute(() -> connection.onPeerConnectionState(state));
      }

      @Override
      public void onIceConnectionChange(RTCIceConnectionState state) {
        connection.liveness().iceStateChanged(state);
      }

      @Override
      public void onDataChannel(RTCDataChannel channel) {
        connection.markReceived(); // the peer's DCEP open message
        connection.serial().execute(() -> connection.onRemoteChannel(channel));
      }
    });
  }

  /** Whether the peer connection is closed (no channel can be created on it). Signaling executor. */
  boolean closed() {
    return pc.getSignalingState() == RTCSignalingState.CLOSED;
  }

  /**
   * The peer connection's statistics (libwebrtc's {@code getStats}): the selected ICE candidate pair and its
   * addresses, for diagnostics and for the test fixture that cuts a connection's path.
   */
  CompletableFuture<RTCStatsReport> stats() {
    CompletableFuture<RTCStatsReport> result = new CompletableFuture<>();
    connection.signal(result, () -> {
      RTCPeerConnection p = pc;
      if (p == null) {
        throw new IllegalStateException("webrtc: no peer connection yet");
      }
      p.getStats(result::complete);
    });
    return result;
  }

  /** Closes the peer connection, if there is one. Signaling executor. */
  void close() {
    RTCPeerConnection p = pc;
    if (p != null) {
      p.close();
    }
  }
}
