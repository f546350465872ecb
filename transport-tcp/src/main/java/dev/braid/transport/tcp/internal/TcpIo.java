package dev.braid.transport.tcp.internal;

import dev.braid.transport.tcp.TcpOptions;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The Netty I/O flavour a transport runs on: Linux epoll when its classes and native library are there
 * (and {@link TcpOptions#IO} is not {@code nio}), Java NIO otherwise.
 *
 * <p><b>Thread safety.</b> Immutable.
 *
 * @param name {@code "epoll"} or {@code "nio"}
 * @param handlers the event loops' I/O handler factory
 * @param channel the client socket channel type
 * @param serverChannel the server socket channel type
 */
record TcpIo(String name, IoHandlerFactory handlers, Class<? extends SocketChannel> channel,
    Class<? extends ServerSocketChannel> serverChannel) {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");

  static TcpIo select(TcpOptions.Io preference) {
    if (preference != TcpOptions.Io.NIO) {
      Throwable why;
      try {
        if (EpollFlavour.available()) {
          return EpollFlavour.create();
        }
        why = EpollFlavour.unavailabilityCause();
      } catch (LinkageError e) { // the epoll classes are not on the class or module path
        why = e;
      }
      if (preference == TcpOptions.Io.EPOLL) {
        LOG.log(System.Logger.Level.WARNING, "epoll requested but unavailable, using NIO: " + why);
      } else {
        LOG.log(System.Logger.Level.DEBUG, "epoll unavailable, using NIO: {0}", why);
      }
    }
    return new TcpIo("nio", NioIoHandler.newFactory(), NioSocketChannel.class, NioServerSocketChannel.class);
  }

  /** Touches the epoll classes only when called, so that their absence is a catchable LinkageError. */
  private static final class EpollFlavour {
    static boolean available() {
      return io.netty.channel.epoll.Epoll.isAvailable();
    }

    static Throwable unavailabilityCause() {
      return io.netty.channel.epoll.Epoll.unavailabilityCause();
    }

    static TcpIo create() {
      return new TcpIo("epoll", io.netty.channel.epoll.EpollIoHandler.newFactory(),
          io.netty.channel.epoll.EpollSocketChannel.class, io.netty.channel.epoll.EpollServerSocketChannel.class);
    }
  }
}
