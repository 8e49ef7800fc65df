// Placeholder until the server layer lands (this session).
int main() { return 0; }
