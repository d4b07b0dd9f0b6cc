// Replaced by the page's real implementation.
export function Inbox(_: { params: Record<string, string> }) {
  return <main class="main"><h1>Inbox</h1></main>;
}
