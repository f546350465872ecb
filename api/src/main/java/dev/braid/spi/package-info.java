/** The service-provider interface that transport authors implement, with base classes that own the shared lifecycle. */
package dev.braid.spi;
