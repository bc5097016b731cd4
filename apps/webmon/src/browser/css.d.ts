// The shell imports its stylesheet so the bundler emits it beside shell.js.
declare module '*.css';
