package dev.braid.transport.webrtc.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The listener's signaling endpoint, in the manner of WHIP (RFC 9725): {@code POST <path>} with
 * {@code Content-Type: application/sdp} and the complete (non-trickle) SDP offer; the answer comes back
 * as {@code 201 Created} with {@code Content-Type: application/sdp} and a {@code Location} header.
 *
 * <p>It accepts only what it must: a body over the size limit gets 413, another content type 415, a
 * missing or wrong bearer token (when one is configured) 401 with {@code WWW-Authenticate: Bearer},
 * something that is not an SDP offer with a data channel section, or an offer libwebrtc rejects, 400;
 * other paths 404 and other methods 405. {@code OPTIONS} answers CORS preflights when a CORS origin is
 * configured (a browser page served elsewhere can then dial). Connections idle for 30 s are dropped,
 * at most {@value #MAX_CONNECTIONS} are open at once, and every response closes the HTTP connection.
 *
 * <p><b>Thread safety.</b> Thread-safe; requests are handled on the Netty event loop, offers are
 * handed to the {@link OfferHandler}, and the answer is written from whichever thread completes it.
 */
public final class SignalingServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SignalingServer.class.getName());
  private static final AtomicLong SESSION_IDS = new AtomicLong();
  /** Most HTTP connections open at once on one endpoint; more are closed on accept. */
  static final int MAX_CONNECTIONS = 256;

  /** Handles one validated offer. */
  public interface OfferHandler {
    /**
     * Returns the complete SDP answer, or fails with {@link OfferRejectedException} (→ 400) or another
     * exception (→ 503).
     */
    CompletableFuture<String> onOffer(String sdp, InetSocketAddress remote);
  }

  /** The offer was not acceptable (bad SDP); the message is sent back to the dialer with 400. */
  public static final class OfferRejectedException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong with the offer */
    public OfferRejectedException(String message) {
      super(message);
    }
  }

  /**
   * The endpoint's settings.
   *
   * @param path the endpoint path, e.g. {@code /braid}
   * @param maxBodyBytes largest accepted offer
   * @param bearerToken the required token, or null for none
   * @param corsOrigin the value of {@code Access-Control-Allow-Origin}, or null to send no CORS headers
   */
  public record Settings(String path, int maxBodyBytes, String bearerToken, String corsOrigin) {}

  private final Channel serverChannel;

  private SignalingServer(Channel serverChannel) {
    this.serverChannel = serverChannel;
  }

  /** Binds the endpoint on {@code address} (port 0 picks one). */
  public static SignalingServer bind(EventLoopGroup group, InetSocketAddress address, Settings settings,
      OfferHandler handler) throws IOException {
    java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (open.incrementAndGet() > MAX_CONNECTIONS) {
              open.decrementAndGet();
              LOG.log(System.Logger.Level.DEBUG, "webrtc: signaling connection from {0} refused: {1} already open",
                  ch.remoteAddress(), MAX_CONNECTIONS);
              ch.close();
              return;
            }
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            ch.pipeline().addLast(new ReadTimeoutHandler(30));
            addHttpHandlers(ch.pipeline(), settings, handler);
          }
        });
    try {
      Channel ch = b.bind(address).sync().channel();
      return new SignalingServer(ch);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while binding " + address);
    } catch (RuntimeException e) {
      throw new IOException("webrtc: cannot bind the signaling endpoint on " + address + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new IOException("webrtc: cannot bind the signaling endpoint on " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * Adds the request handling of one signaling connection (HTTP decoding with size limits, then the
   * endpoint itself) to {@code pipeline}: what every accepted connection runs, and what the fuzz test feeds.
   */
  public static void addHttpHandlers(io.netty.channel.ChannelPipeline pipeline, Settings settings, OfferHandler handler) {
    pipeline.addLast(new HttpServerCodec(4096, 8192, 8192))
        .addLast(new HttpObjectAggregator(settings.maxBodyBytes()))
        .addLast(new Handler(settings, handler));
  }

  /** The bound address. */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Settings settings;
    private final OfferHandler offers;

    Handler(Settings settings, OfferHandler offers) {
      this.settings = settings;
      this.offers = offers;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      if (!req.decoderResult().isSuccess()) {
        respond(ctx, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request\n");
        return;
      }
      String path = new QueryStringDecoder(req.uri()).path();
      if (!path.equals(settings.path())) {
        respond(ctx, HttpResponseStatus.NOT_FOUND, "no signaling endpoint at " + path + "; POST SDP offers to "
            + settings.path() + "\n");
        return;
      }
      if (req.method().equals(HttpMethod.OPTIONS)) {
        FullHttpResponse r = response(HttpResponseStatus.NO_CONTENT, null);
        r.headers().set(HttpHeaderNames.ALLOW, "POST, OPTIONS");
        write(ctx, r);
        return;
      }
      if (!req.method().equals(HttpMethod.POST)) {
        FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "only POST (an SDP offer) is accepted\n");
        r.headers().set(HttpHeaderNames.ALLOW, "POST, OPTIONS");
        write(ctx, r);
        return;
      }
      if (settings.bearerToken() != null && !authorized(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
        FullHttpResponse r = response(HttpResponseStatus.UNAUTHORIZED, "a valid bearer token is required\n");
        r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        write(ctx, r);
        return;
      }
      String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
      String mime = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      if (!mime.equals("application/sdp")) {
        respond(ctx, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/sdp, was "
            + (type == null ? "absent" : type) + "\n");
        return;
      }
      String sdp;
      try {
        sdp = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(req.content().nioBuffer()).toString();
      } catch (CharacterCodingException e) {
        respond(ctx, HttpResponseStatus.BAD_REQUEST, "the SDP offer is not valid UTF-8\n");
        return;
      }
      String problem = SdpCheck.problemWithOffer(sdp);
      if (problem != null) {
        respond(ctx, HttpResponseStatus.BAD_REQUEST, "not an acceptable SDP offer: " + problem + "\n");
        return;
      }
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      CompletableFuture<String> answer;
      try {
        answer = offers.onOffer(sdp, remote);
      } catch (RuntimeException e) {
        answer = CompletableFuture.failedFuture(e);
      }
      answer.whenComplete((a, err) -> {
        if (err == null) {
          FullHttpResponse r = response(HttpResponseStatus.CREATED, a);
          r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/sdp");
          r.headers().set(HttpHeaderNames.LOCATION, settings.path() + "/" + SESSION_IDS.incrementAndGet());
          write(ctx, r);
          return;
        }
        Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (c instanceof OfferRejectedException) {
          respond(ctx, HttpResponseStatus.BAD_REQUEST, c.getMessage() + "\n");
        } else {
          LOG.log(System.Logger.Level.DEBUG, "webrtc: signaling failed for {0}: {1}", remote, c);
          respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "the listener could not answer: " + c.getMessage() + "\n");
        }
      });
    }

    private boolean authorized(String header) {
      if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return false;
      }
      byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
      byte[] expected = settings.bearerToken().getBytes(StandardCharsets.UTF_8);
      return MessageDigest.isEqual(given, expected);
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
      write(ctx, response(status, text));
    }

    private FullHttpResponse response(HttpResponseStatus status, String body) {
      ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8));
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      HttpUtil.setContentLength(r, content.readableBytes());
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
      if (settings.corsOrigin() != null) {
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, settings.corsOrigin());
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS");
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "content-type, authorization");
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "location");
      }
      return r;
    }

    private void write(ChannelHandlerContext ctx, FullHttpResponse r) {
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof io.netty.handler.timeout.ReadTimeoutException) {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: signaling client {0} idle; closed", ctx.channel().remoteAddress());
      } else {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: signaling connection " + ctx.channel().remoteAddress() + " failed", cause);
      }
      ctx.close();
    }
  }
}
