/**
 * Sharing with the standards, pure: Watchfloor's events and pictures as STIX 2.1 and MISP, and
 * back. No I/O: the server's routes (export, import, TAXII, MISP feed) call these.
 */
export {}
