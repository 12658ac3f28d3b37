// The dashboard's files are embedded as text by the bundler (`with { type: "text" }`).
declare module "*.css" {
  const text: string;
  export default text;
}

declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
