/** Implementation details of the API module; not exported. */
package dev.braid.internal;
