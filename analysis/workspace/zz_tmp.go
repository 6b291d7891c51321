package workspace

import (
	"os"
	"strconv"
)

func init() {
	if n, err := strconv.Atoi(os.Getenv("FS_DRAIN")); err == nil {
		drainConversations = n
	}
}
