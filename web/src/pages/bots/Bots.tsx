// Replaced by the page's real implementation.
export function Bots(_: { params: Record<string, string> }) {
  return <main class="main"><h1>Bots</h1></main>;
}
