package dev.braid.transport.webrtc.internal;

import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.spi.AbstractListener;
import dev.braid.transport.webrtc.WebRtcOptions;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A WebRTC listener: an HTTP signaling endpoint (see {@link SignalingServer}) that answers SDP offers;
 * each answered offer becomes a {@link WebRtcConnection}, handed to {@link #accept()} once its control
 * channel is open. The address, the accept hand-over (at most {@value #MAX_BACKLOG} established connections
 * wait for {@link #accept()}; more are closed) and {@code close()} are {@link AbstractListener}'s. What is
 * WebRTC's own is the signaling endpoint and the handshakes in flight: at most {@value #MAX_HANDSHAKES} run at
 * once (more get 503), one that does not complete within the connect timeout is aborted, and closing the
 * listener aborts those still running.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link AbstractListener}.
 */
final class WebRtcListener extends AbstractListener {
  static final int MAX_HANDSHAKES = 64;
  static final int MAX_BACKLOG = 128;

  private final WebRtcTransport transport;
  private final SignalingServer server;
  private final Object lock = new Object();
  private final Set<WebRtcConnection> handshaking = new HashSet<>(); // guarded by lock

  WebRtcListener(WebRtcTransport transport, EventLoopGroup group, InetSocketAddress bind, String host, String path)
      throws IOException {
    super(WebRtcTransport.ID, WebRtcAddress.uri(host, bind.getPort()), MAX_BACKLOG);
    this.transport = transport;
    SignalingServer.Settings settings = new SignalingServer.Settings(path,
        transport.options().get(WebRtcOptions.MAX_SDP_BYTES),
        transport.options().get(WebRtcOptions.BEARER_TOKEN).orElse(null),
        transport.options().get(WebRtcOptions.CORS_ALLOW_ORIGIN).orElse(null));
    this.server = SignalingServer.bind(group, bind, settings, this::onOffer);
    bound(WebRtcAddress.uri(host, server.localAddress().getPort()));
  }

  private CompletableFuture<String> onOffer(String sdp, InetSocketAddress remote) {
    URI remoteUri = WebRtcAddress.uri(remote.getAddress().getHostAddress(), remote.getPort());
    WebRtcConnection c = new WebRtcConnection(transport, false, address(), remoteUri);
    synchronized (lock) {
      // close() marks the listener closed before closeNative() takes this lock: either this sees it closed, or
      // closeNative() finds c among the handshakes and aborts it.
      if (isClosed()) {
        return CompletableFuture.failedFuture(new IOException("the listener is closed"));
      }
      if (handshaking.size() >= MAX_HANDSHAKES) {
        return CompletableFuture.failedFuture(new IOException("too many handshakes in progress (" + MAX_HANDSHAKES + ")"));
      }
      handshaking.add(c);
    }
    transport.register(c);
    CompletableFuture<String> answer = c.acceptOffer(sdp);
    answer.whenComplete((a, err) -> {
      if (err != null) {
        finishHandshake(c, err);
      }
    });
    c.established()
        .applyToEither(transport.<Void>timeout(transport.options().connectTimeout().toMillis()), v -> v)
        .whenComplete((v, err) -> finishHandshake(c, err));
    return answer;
  }

  /** How many handshakes are in flight now (for tests). */
  int handshakes() {
    synchronized (lock) {
      return handshaking.size();
    }
  }

  /** How many established connections wait for {@code accept()} now (for tests). */
  int waitingForAccept() {
    return unaccepted();
  }

  private void finishHandshake(WebRtcConnection c, Throwable err) {
    synchronized (lock) {
      if (!handshaking.remove(c)) {
        return;
      }
    }
    if (err != null) {
      c.abort(new ConnectionFailedException("webrtc: handshake failed: " + err, err));
    } else {
      offer(c); // handed to a waiting accept, queued, or (backlog full, listener closed) closed by the base class
    }
  }

  /**
   * Stops the signaling endpoint, aborts the handshakes in flight, and leaves the transport. Runs once, after
   * {@code accept()} started failing and before waiting accepts fail and queued connections are closed.
   */
  @Override
  protected void closeNative() {
    List<WebRtcConnection> handshakes;
    synchronized (lock) {
      handshakes = new ArrayList<>(handshaking);
      handshaking.clear();
    }
    try {
      server.close();
    } finally {
      for (WebRtcConnection c : handshakes) {
        c.abort(new ConnectionClosedException("the listener closed before the connection was accepted", false));
      }
      transport.listenerClosed(this);
    }
  }
}
