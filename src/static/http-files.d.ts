// Built-in pages are embedded as text by the bundler.
declare module "*.http" {
  const text: string;
  export default text;
}
