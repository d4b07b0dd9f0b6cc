// Replaced by the page's real implementation.
export function Sessions(_: { params: Record<string, string> }) {
  return <main class="main"><h1>Sessions</h1></main>;
}
