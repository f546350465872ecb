package dev.braid.transport.webrtc;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.transport.webrtc.internal.SignalingServer;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
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
public final class WebRtcListener implements Listener {
  static final int MAX_HANDSHAKES = 64;
  static final int MAX_BACKLOG = 128;

  private final WebRtcTransport transport;
  private final SignalingServer server;
  private final URI address;
  private final Object lock = new Object();
  // guarded by lock
  private final ArrayDeque<WebRtcConnection> backlog = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<Connection>> acceptors = new ArrayDeque<>();
  private final Set<WebRtcConnection> handshaking = new HashSet<>();
  private boolean closed;

  WebRtcListener(WebRtcTransport transport, EventLoopGroup group, InetSocketAddress bind, String host, String path)
      throws IOException {
    this.transport = transport;
    SignalingServer.Settings settings = new SignalingServer.Settings(path,
        WebRtcTransport.intProperty(transport.options(), "maxSdpBytes", WebRtcTransport.DEFAULT_MAX_SDP_BYTES),
        transport.options().property("bearerToken").orElse(null),
        transport.options().property("corsAllowOrigin").orElse(null));
    this.server = SignalingServer.bind(group, bind, settings, this::onOffer);
    this.address = URI.create("webrtc://" + WebRtcTransport.hostPort(host, server.localAddress().getPort()));
  }

  private CompletableFuture<String> onOffer(String sdp, InetSocketAddress remote) {
    URI remoteUri = URI.create("webrtc://" + WebRtcTransport.hostPort(remote.getAddress().getHostAddress(),
        remote.getPort()));
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
    CompletableFuture<Connection> acceptor = null;
    boolean abort = false;
    synchronized (lock) {
      if (!handshaking.remove(c)) {
        return;
      }
      if (err != null || closed) {
        abort = true;
      } else if ((acceptor = acceptors.poll()) == null) {
        if (backlog.size() >= MAX_BACKLOG) {
          abort = true;
        } else {
          backlog.add(c);
        }
      }
    }
    if (abort) {
      c.abort(err != null ? new ConnectionFailedException("webrtc: handshake failed: " + err, err)
          : new ConnectionClosedException("the listener closed before the connection was accepted", false));
    } else if (acceptor != null) {
      acceptor.complete(c);
    }
  }

  @Override
  public URI address() {
    return address;
  }

  @Override
  public CompletableFuture<Connection> accept() {
    CompletableFuture<Connection> f = new CompletableFuture<>();
    WebRtcConnection ready;
    synchronized (lock) {
      ready = backlog.poll();
      if (ready == null) {
        if (closed) {
          return CompletableFuture.failedFuture(new ConnectionClosedException("the listener is closed", false));
        }
        acceptors.add(f);
        return f;
      }
    }
    f.complete(ready);
    return f;
  }

  @Override
  public void close() {
    List<CompletableFuture<Connection>> waiting;
    List<WebRtcConnection> pending;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      waiting = new ArrayList<>(acceptors);
      acceptors.clear();
      pending = new ArrayList<>(backlog);
      backlog.clear();
      pending.addAll(handshaking);
      handshaking.clear();
    }
    server.close();
    ConnectionClosedException e = new ConnectionClosedException("the listener is closed", false);
    for (CompletableFuture<Connection> f : waiting) {
      f.completeExceptionally(e);
    }
    for (WebRtcConnection c : pending) {
      c.abort(new ConnectionClosedException("the listener closed before the connection was accepted", false));
    }
    transport.listenerClosed(this);
  }

  @Override
  public String toString() {
    return "WebRtcListener " + address;
  }
}
