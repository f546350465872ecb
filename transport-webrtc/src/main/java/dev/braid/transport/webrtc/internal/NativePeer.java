package dev.braid.transport.webrtc.internal;

import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.PortAllocatorConfig;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import java.util.function.Consumer;

/**
 * The raw webrtc-java calls that create, configure and release native objects, each written once: the peer
 * connection and its configuration, data channels (negotiated in-band, or pre-negotiated with a fixed SCTP id),
 * remote descriptions (webrtc-java throws {@code java.lang.Error} for SDP it cannot parse), the description
 * observers, and a data channel's release. The transport calls them on its signaling executor.
 *
 * <p>Public only for the bench baseline ({@code internal.bench}), which uses webrtc-java without Braid but creates
 * its native objects the same way; this package is not exported (see {@code module-info.java}).
 */
public final class NativePeer {
  private NativePeer() {}

  /** A peer connection without TCP candidates (Braid's ICE runs over UDP only). */
  public static RTCPeerConnection createPeerConnection(PeerConnectionFactory factory,
      PeerConnectionObserver observer) {
    RTCConfiguration config = new RTCConfiguration();
    config.portAllocatorConfig = new PortAllocatorConfig().setDisableTcp(true);
    RTCPeerConnection pc = factory.createPeerConnection(config, observer);
    if (pc == null) {
      throw new IllegalStateException("webrtc: createPeerConnection returned null");
    }
    return pc;
  }

  /**
   * An ordered, reliable data channel (no {@code maxRetransmits} or {@code maxPacketLifeTime}): negotiated in-band
   * when {@code negotiatedId} is negative (libwebrtc picks the SCTP id), otherwise pre-negotiated on that SCTP id.
   */
  public static RTCDataChannel createChannel(RTCPeerConnection pc, String label, int negotiatedId) {
    RTCDataChannelInit init = new RTCDataChannelInit();
    init.ordered = true;
    if (negotiatedId >= 0) {
      init.negotiated = true;
      init.id = negotiatedId;
    }
    RTCDataChannel ch = pc.createDataChannel(label, init);
    if (ch == null) {
      throw new IllegalStateException("webrtc: createDataChannel returned null");
    }
    return ch;
  }

  /**
   * Applies the peer's description. SDP that webrtc-java cannot parse makes it throw {@code java.lang.Error}
   * synchronously instead of calling the observer: that goes to the observer's {@code onFailure} too.
   */
  public static void setRemoteDescription(RTCPeerConnection pc, RTCSessionDescription description,
      SetSessionDescriptionObserver observer) {
    try {
      pc.setRemoteDescription(description, observer);
    } catch (Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      observer.onFailure(String.valueOf(e.getMessage()));
    }
  }

  /** An observer of {@code setLocalDescription}/{@code setRemoteDescription}. */
  public static SetSessionDescriptionObserver whenSet(Runnable onSuccess, Consumer<String> onFailure) {
    return new SetSessionDescriptionObserver() {
      @Override
      public void onSuccess() {
        onSuccess.run();
      }

      @Override
      public void onFailure(String error) {
        onFailure.accept(error);
      }
    };
  }

  /** An observer of {@code createOffer}/{@code createAnswer}. */
  public static CreateSessionDescriptionObserver whenCreated(Consumer<RTCSessionDescription> onSuccess,
      Consumer<String> onFailure) {
    return new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription description) {
        onSuccess.accept(description);
      }

      @Override
      public void onFailure(String error) {
        onFailure.accept(error);
      }
    };
  }

  /**
   * Releases a data channel: unregisters its observer ({@code observed}: one was registered), which cancels
   * callbacks still queued, closes it unless that was done already, and frees it.
   */
  public static void release(RTCDataChannel channel, boolean observed, boolean alreadyClosed) {
    if (observed) {
      channel.unregisterObserver();
    }
    if (!alreadyClosed) {
      channel.close();
    }
    channel.dispose();
  }
}
