// The library entry: start a broker or a coordinator inside your own process (tests, tools).
export {};
