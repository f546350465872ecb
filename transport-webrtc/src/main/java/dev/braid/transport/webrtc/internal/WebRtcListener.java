package dev.braid.transport.webrtc.internal;

import dev.braid.transport.webrtc.WebRtcOptions;
import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.spi.AcceptQueue;
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
 * channel is open. A handshake that does not complete within the connect timeout is aborted. At most
 * {@value #MAX_HANDSHAKES} handshakes run at once (more get 503) and at most {@value #MAX_BACKLOG}
 * established connections wait for {@link #accept()} (more are closed).
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
final class WebRtcListener implements Listener {
  static final int MAX_HANDSHAKES = 64;
  static final int MAX_BACKLOG = 128;

  private final WebRtcTransport transport;
  private final SignalingServer server;
  private final URI address;
  private final AcceptQueue<Connection> backlog = new AcceptQueue<>(MAX_BACKLOG, WebRtcListener::abortUnaccepted);
  private final Object lock = new Object();
  // guarded by lock
  private final Set<WebRtcConnection> handshaking = new HashSet<>();
  private boolean closed;

  WebRtcListener(WebRtcTransport transport, EventLoopGroup group, InetSocketAddress bind, String host, String path)
      throws IOException {
    this.transport = transport;
    SignalingServer.Settings settings = new SignalingServer.Settings(path,
        transport.options().get(WebRtcOptions.MAX_SDP_BYTES),
        transport.options().get(WebRtcOptions.BEARER_TOKEN).orElse(null),
        transport.options().get(WebRtcOptions.CORS_ALLOW_ORIGIN).orElse(null));
    this.server = SignalingServer.bind(group, bind, settings, this::onOffer);
    this.address = WebRtcAddress.uri(host, server.localAddress().getPort());
  }

  private CompletableFuture<String> onOffer(String sdp, InetSocketAddress remote) {
    URI remoteUri = WebRtcAddress.uri(remote.getAddress().getHostAddress(), remote.getPort());
    WebRtcConnection c = new WebRtcConnection(transport, false, address, remoteUri);
    synchronized (lock) {
      if (closed) {
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

  private void finishHandshake(WebRtcConnection c, Throwable err) {
    synchronized (lock) {
      if (!handshaking.remove(c)) {
        return;
      }
    }
    if (err != null) {
      c.abort(new ConnectionFailedException("webrtc: handshake failed: " + err, err));
    } else {
      backlog.offer(c); // handed to a waiting accept, queued, or (backlog full, listener closed) aborted
    }
  }

  /** A connection that will never be accepted: the backlog is full or the listener closed. */
  private static void abortUnaccepted(Connection c) {
    c.abort(
        new ConnectionClosedException("the listener closed before the connection was accepted", false));
  }

  @Override
  public URI address() {
    return address;
  }

  @Override
  public CompletableFuture<Connection> accept() {
    return backlog.accept();
  }

  @Override
  public void close() {
    List<WebRtcConnection> handshakes = new ArrayList<>();
    // accept() fails from now on; waiting accepts fail, and the backlog is aborted, once signaling stopped.
    boolean first = backlog.close(() -> new ConnectionClosedException("the listener is closed", false), () -> {
      synchronized (lock) {
        closed = true;
        handshakes.addAll(handshaking);
        handshaking.clear();
      }
      server.close();
    });
    if (!first) {
      return;
    }
    for (WebRtcConnection c : handshakes) {
      abortUnaccepted(c);
    }
    transport.listenerClosed(this);
  }

  @Override
  public String toString() {
    return "WebRtcListener " + address;
  }
}
