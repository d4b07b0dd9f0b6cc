// Replaced by the page's real implementation.
export function Board(_: { params: Record<string, string> }) {
  return <main class="main"><h1>Board</h1></main>;
}
